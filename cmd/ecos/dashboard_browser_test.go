package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/internal/testkit"
)

// dashboardPages are the dashboard's pages and the charts each draws.
var dashboardPages = []struct {
	name, path string
	charts     []string
}{
	{"traffic", "/dashboard/", []string{"traffic"}},
	{"refusals", "/dashboard/refusals", []string{"refusals"}},
	{"mpid", "/dashboard/mpid", []string{"mpid"}},
	{"quarantine", "/dashboard/quarantine", []string{"holds", "thresholds", "crossings"}},
	{"migration", "/dashboard/migration", []string{"by-state", "by-manufacturer", "by-supplier", "moves", "exceptions"}},
	{"devices", "/dashboard/devices", []string{"response-times", "failures"}},
}

// TestDashboardInChromium is issue 14's browser test: a demo service with
// traffic (a 6.23 that succeeds, one refused, one quarantined, a
// migration wave with a meter that refuses it), each dashboard page
// loaded in headless Chromium through the link `ecos serve --demo`
// prints (?token=, then the session cookie), every chart drawn with data
// and no console message; without the token the dashboard and an
// operator action are refused. A screenshot of each page goes to
// $ECOS_ARTEFACTS_DIR (default: a temporary directory).
func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	chromium := testkit.Tool(t, "chromium", "apt-get install chromium")
	browser := headless{t: t, bin: chromium}
	browser.checkConsoleDetector()

	dir := t.TempDir()
	faulty := demoworld.Device(4).String()
	apiURL, opURL := demoServerWith(t, dir, func(c *config.Config) {
		c.Devices.Faults = map[string]string{faulty: "bad-certificate"}
	})
	tokenFile := filepath.Join(dir, demoworld.OperatorTokenFile)
	token, err := demoworld.OperatorToken(dir)
	if err != nil {
		t.Fatal(err)
	}

	// Traffic: supplier 2 limits itself to one 6.23 a day, so its second
	// is held; supplier 1 asks for a meter it does not supply.
	_, signed := signedADTFile(t, dir)
	mustCLI(t, "adt", "submit", "--demo", dir, "--url", apiURL, signed)
	mustCLI(t, "send", "6.23", "--demo", dir, "--url", apiURL, "--device", "1", "--wait", "10s")
	_, out, errs := ecos(t, "", "send", "6.23", "--demo", dir, "--url", apiURL, "--device", "2", "--wait", "10s")
	held := regexp.MustCompile(`QuarantineEventRef (\d+)`).FindStringSubmatch(out)
	if held == nil {
		t.Fatalf("second 6.23 not held:\n%s%s", out, errs)
	}
	ecos(t, "", "send", "6.23", "--demo", dir, "--url", apiURL, "--supplier", "1", "--device", "3", "--wait", "10s")
	mustCLI(t, "migrate", "run", "--operator", opURL, "--operator-token-file", tokenFile, "--execute", "--name", "browser test")

	// Without the token: the page and an action are refused, and the
	// hold is still held.
	dom, _ := browser.dumpDOM(opURL + "/dashboard/")
	if !strings.Contains(dom, `id="refused"`) || strings.Contains(dom, "<svg") {
		t.Errorf("the dashboard without the token:\n%s", dom)
	}
	for _, auth := range []string{"", "Bearer " + token[1:], "Bearer " + token + "x"} {
		req, _ := http.NewRequest("POST", opURL+"/operator/v1/quarantine/"+held[1]+"/release", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("release with %q: %s", auth, resp.Status)
		}
	}
	if list := mustCLI(t, "quarantine", "list", "--operator", opURL, "--operator-token-file", tokenFile, "--state", "held", "--format", "csv"); !strings.Contains(list, held[1]+",") {
		t.Errorf("the hold is no longer held after refused releases:\n%s", list)
	}

	artefacts := os.Getenv("ECOS_ARTEFACTS_DIR")
	if artefacts == "" {
		artefacts = t.TempDir()
	}
	if err := os.MkdirAll(artefacts, 0o755); err != nil {
		t.Fatal(err)
	}
	marks := regexp.MustCompile(`<svg [^>]*id="([^"]+)" data-marks="(\d+)"`)
	for _, p := range dashboardPages {
		link := opURL + p.path + "?token=" + token
		dom, console := browser.dumpDOM(link)
		if console != "" {
			t.Errorf("%s: console messages:\n%s", p.name, console)
		}
		if !strings.Contains(dom, `id="data"`) {
			t.Errorf("%s: no table in the page:\n%s", p.name, dom)
			continue
		}
		found := marks.FindAllStringSubmatch(dom, -1)
		var ids []string
		for _, m := range found {
			ids = append(ids, m[1])
			drawn := strings.Count(dom[strings.Index(dom, m[0]):], `class="mark"`)
			if n, _ := strconv.Atoi(m[2]); n == 0 || drawn == 0 {
				t.Errorf("%s: chart %s drew no data (%s marks)", p.name, m[1], m[2])
			}
		}
		if strings.Join(ids, " ") != strings.Join(p.charts, " ") {
			t.Errorf("%s: charts %v, want %v", p.name, ids, p.charts)
		}
		shot := filepath.Join(artefacts, "dashboard-"+p.name+".png")
		browser.screenshot(link, shot)
		if b, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s: screenshot %s: %v", p.name, shot, err)
		}
	}
	t.Logf("screenshots in %s", artefacts)
}

// headless runs Chromium once per page, each time with a fresh profile:
// a page opened by its link must set its own session cookie.
type headless struct {
	t   *testing.T
	bin string
}

func (h headless) run(args ...string) (stdout, stderr string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + h.t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, h.bin, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

// consoleLine is how Chromium logs a page's console messages (and its
// refusals under the Content-Security-Policy) with --enable-logging.
var consoleLine = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)

// dumpDOM loads url and returns the DOM once loaded, and any console
// messages.
func (h headless) dumpDOM(url string) (dom, console string) {
	h.t.Helper()
	out, errs := h.run("--dump-dom", url)
	return out, strings.Join(consoleLine.FindAllString(errs, -1), "\n")
}

func (h headless) screenshot(url, file string) {
	h.t.Helper()
	h.run("--window-size=1280,1800", "--screenshot="+file, url)
}

// checkConsoleDetector: a page that logs an error is caught, so a
// console error in the dashboard would be.
func (h headless) checkConsoleDetector() {
	h.t.Helper()
	_, console := h.dumpDOM(fmt.Sprintf("data:text/html,<script>console.error(%q)</script>", "probe"))
	if !strings.Contains(console, "probe") {
		h.t.Fatalf("Chromium's console messages are not where the test looks for them (%s)", consoleLine)
	}
}
