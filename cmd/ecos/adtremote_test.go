package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/api"
	"github.com/ecos-cos/ecos/config"
	"github.com/ecos-cos/ecos/demoworld"
	"github.com/ecos-cos/ecos/devicesim"
	"github.com/ecos-cos/ecos/obs"
	"github.com/ecos-cos/ecos/service"
)

// demoServer runs a demo service from dir in this process, on two
// loopback listeners, until the test ends; it returns the DUIS API's and
// the operator API's base URLs.
func demoServer(t *testing.T, dir string) (apiURL, opURL string) {
	t.Helper()
	return demoServerWith(t, dir, nil)
}

// demoServerWith is demoServer with the demo's configuration changed by
// edit (nil: as installed) before the service starts.
func demoServerWith(t *testing.T, dir string, edit func(*config.Config)) (apiURL, opURL string) {
	t.Helper()
	ctx := context.Background()
	if _, err := demoworld.Install(ctx, dir, demoworld.InstallOptions{Devices: 4}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, demoworld.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	sim, err := devicesim.ForConfig(cfg.Devices, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(ctx, service.Options{Config: cfg, Log: obs.Discard(), Audit: obs.Discard(), Simulator: sim})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		svc.Close()
		t.Fatal(err)
	}
	opLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		svc.Close()
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx, ln, opLn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		svc.Close()
	})
	return "https://" + ln.Addr().String(), "http://" + opLn.Addr().String()
}

// signedADTFile loads the demo in dir and signs, with supplier 2's File
// Signing credential, an ADT file holding it to one SR 6.23 a day.
func signedADTFile(t *testing.T, dir string) (*demoworld.World, string) {
	t.Helper()
	w, err := demoworld.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	user := w.PKI.Suppliers[1].EUI.String()
	pki := func(name string) string { return filepath.Join(dir, demoworld.PKIDir, name) }
	cred := w.PKI.Suppliers[1].FileSigning.Name
	body := writeTemp(t, "body.csv", []byte(user+",2\n6.23,1,1,1440\n"))
	signed := filepath.Join(t.TempDir(), "signed.csv")
	if code, out, errs := ecos(t, "", "adt", "sign", "--key", pki(cred+".key"), "--cert", pki(cred+".pem"), "--out", signed, body); code != 0 {
		t.Fatalf("sign: exit %d\n%s%s", code, out, errs)
	}
	return w, signed
}

// TestADTRemoteEndToEnd drives a running server through the CLI as a
// supplier and an operator would: supplier 2 signs, checks and submits a
// file that holds its second SR 6.23 of the day; a replay is refused;
// `adt show` and `quarantine list` in every format show the hold, and the
// operator deletes it once.
func TestADTRemoteEndToEnd(t *testing.T) {
	dir := t.TempDir()
	apiURL, opURL := demoServer(t, dir)
	w, signed := signedADTFile(t, dir)
	user := w.PKI.Suppliers[1].EUI.String()
	pki := func(name string) string { return filepath.Join(dir, demoworld.PKIDir, name) }
	cred := w.PKI.Suppliers[1].FileSigning.Name

	// Check offline, submit; the same file again is a replay.
	code, out, errs := ecos(t, "", "adt", "validate", "--certs", pki(cred+".pem"), "--iki", pki(w.PKI.FileSigningCA.Name+".pem"), signed)
	if code != 0 || !strings.Contains(out, "sequence 2, 1 row(s)") || !strings.Contains(out, "signature verified") {
		t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
	}
	// Over mutual TLS, as the User the file is about: supplier 1's
	// certificate cannot send supplier 2's file.
	tlsAs := func(n int) []string {
		cert, key, ca := demoworld.TLSFiles(dir, w.PKI.Suppliers[n-1].EUI)
		return []string{"--tls-cert", cert, "--tls-key", key, "--tls-ca", ca}
	}
	code, out, errs = ecos(t, "", append(append([]string{"adt", "submit", "--url", apiURL}, tlsAs(1)...), signed)...)
	if code != 1 || !strings.Contains(errs, "403") || !strings.Contains(errs, "it is for User "+user) {
		t.Fatalf("supplier 1 submitting supplier 2's file: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	code, out, errs = ecos(t, "", "adt", "submit", "--url", apiURL, signed)
	if code != 2 || !strings.Contains(errs, "wants mutual TLS: give --tls-cert and --tls-key") {
		t.Fatalf("submit without a TLS client certificate: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	// --demo presents the certificate of the User the file is about.
	code, out, errs = ecos(t, "", "adt", "submit", "--demo", dir, "--url", apiURL, signed)
	if code != 0 || !strings.Contains(out, "accepted: User "+user+", sequence 2,") {
		t.Fatalf("submit: exit %d\n%s%s", code, out, errs)
	}
	if !regexp.MustCompile(`(?m)^6\.23\s+1\s+1\s+1440m\s+-\s*$`).MatchString(out) {
		t.Errorf("submit does not list the 6.23 row:\n%s", out)
	}
	code, out, errs = ecos(t, "", append(append([]string{"adt", "submit", "--url", apiURL}, tlsAs(2)...), signed)...)
	if code != 1 || !strings.Contains(errs, "replay") || !strings.Contains(errs, "sequence number 2") {
		t.Fatalf("replay: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}

	show := func(wantCount, wantHeld int) {
		t.Helper()
		code, out, errs := ecos(t, "", "adt", "show", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), user)
		if code != 0 {
			t.Fatalf("show: exit %d\n%s%s", code, out, errs)
		}
		for _, re := range []string{
			`(?m)^User ` + regexp.QuoteMeta(user) + `: ` + strconv.Itoa(wantHeld) + ` request\(s\) held$`,
			`(?m)^file 2 accepted .* via api \(in force\)$`,
			`(?m)^file 1 accepted .* via demo \(superseded\)$`,
			`(?m)^SRV\s+WARNING\s+QUARANTINE\s+INTERVAL\s+COUNT\s*$`,
			`(?m)^6\.23\s+1\s+1\s+1440m\s+` + strconv.Itoa(wantCount) + `\s*$`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("show does not match %s:\n%s", re, out)
			}
		}
		if strings.Contains(out, "500000") {
			t.Errorf("show still lists sequence 1's hourly row:\n%s", out)
		}
	}
	show(0, 0)

	// The first SR 6.23 of the day goes through; the second is held.
	code, out, errs = ecos(t, "", "send", "6.23", "--demo", dir, "--url", apiURL, "--supplier", "2", "--device", "1", "--wait", "10s")
	if code != 0 || !strings.Contains(out, "now trusts the new supplier") {
		t.Fatalf("first send: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = ecos(t, "", "send", "6.23", "--demo", dir, "--url", apiURL, "--supplier", "2", "--device", "2", "--wait", "10s")
	held := regexp.MustCompile(`(?m)^! held by anomaly detection: DCC alert AD1 .*QuarantineEventRef (\d+) \(signature verified\)$`).FindStringSubmatch(out)
	if code != 1 || held == nil || !strings.Contains(errs, "ecos quarantine release "+held[1]) {
		t.Fatalf("second send: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	show(1, 1)

	// The held request, in each format.
	code, out, errs = ecos(t, "", "quarantine", "list", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--state", "held", "--format", "json")
	if code != 0 {
		t.Fatalf("list json: exit %d\n%s%s", code, out, errs)
	}
	var l api.HoldList
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("list json: %v\n%s", err, out)
	}
	if len(l.Holds) != 1 {
		t.Fatalf("list json: %d holds, want 1\n%s", len(l.Holds), out)
	}
	h := l.Holds[0]
	wantID := user + ":" + demoworld.Device(2).String() + ":"
	if h.QuarantineEventRef == 0 || h.State != "held" || h.UserID != user || !strings.HasPrefix(h.RequestID, wantID) ||
		h.SRV != "6.23" || h.Breach != "user" || h.IntervalMinutes != 1440 || h.QuarantineThreshold != 1 || h.Count != 2 ||
		!h.DecidedAt.IsZero() || h.DecidedBy != "" {
		t.Errorf("hold %+v", h)
	}
	ref := strconv.FormatUint(h.QuarantineEventRef, 10)
	if ref != held[1] {
		t.Errorf("the list has ref %s, the alert said %s", ref, held[1])
	}

	code, out, errs = ecos(t, "", "quarantine", "list", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--state", "held", "--format", "csv")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "QuarantineEventRef,RequestID,UserID,") ||
		!strings.HasPrefix(lines[1], ref+","+h.RequestID+","+user+",") || !strings.Contains(lines[1], ",held,") {
		t.Errorf("list csv: exit %d\n%s%s", code, out, errs)
	}

	code, out, errs = ecos(t, "", "quarantine", "list", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--state", "held")
	if code != 0 || !regexp.MustCompile(`(?m)^REF\s+STATE\s+REQUEST`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^`+ref+`\s+held\s+`+regexp.QuoteMeta(h.RequestID)+`\s+6\.23\s+user\s+2/1 in 1440m\s`).MatchString(out) {
		t.Errorf("list table: exit %d\n%s%s", code, out, errs)
	}

	// The report as charts, to mail.
	charts := filepath.Join(t.TempDir(), "charts")
	code, out, errs = ecos(t, "", "quarantine", "list", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--format", "png", "--out", charts)
	for _, name := range []string{"quarantine-per-day.png", "quarantine-per-user.png"} {
		f := filepath.Join(charts, name)
		b, err := os.ReadFile(f)
		if code != 0 || !strings.Contains(out, "wrote "+f) || err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("list png %s: exit %d, %v\n%s%s", name, code, err, out, errs)
		}
	}

	// The operator deletes it, once.
	code, out, errs = ecos(t, "", "quarantine", "delete", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--as", "alice", ref)
	if code != 0 || !regexp.MustCompile(`(?m)^`+ref+`\s+deleted\s.*operator:alice\s*$`).MatchString(out) {
		t.Fatalf("delete: exit %d\n%s%s", code, out, errs)
	}
	// Again: it is deleted, as asked, so exit 0, saying by whom.
	code, out, errs = ecos(t, "", "quarantine", "delete", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--as", "bob", ref)
	if code != 0 || errs != "" || !strings.Contains(out, ref+" was already deleted (by operator:alice)") {
		t.Errorf("second delete: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	// A deleted request cannot be released.
	code, out, errs = ecos(t, "", "quarantine", "release", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), ref)
	if code != 1 || !strings.Contains(errs, "1 of 1 not released") || strings.Count(errs, "error:") != 1 {
		t.Errorf("release after delete: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	code, out, errs = ecos(t, "", "quarantine", "list", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--state", "held", "--format", "csv")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("held after the delete: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = ecos(t, "", "quarantine", "list", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--state", "held")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "REF") {
		t.Errorf("held after the delete, as a table: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = ecos(t, "", "quarantine", "list", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--user", user, "--format", "csv")
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, ",deleted,") || !strings.Contains(out, ",operator:alice\n") {
		t.Errorf("the User's report: exit %d\n%s%s", code, out, errs)
	}

	for _, args := range [][]string{
		{"quarantine", "delete", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "abc"},
		{"quarantine", "release", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "0"},
		{"quarantine", "release", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile)},
		{"quarantine", "list", "--operator", opURL, "--operator-token-file", filepath.Join(dir, demoworld.OperatorTokenFile), "--format", "xml"},
	} {
		if code, _, errs := ecos(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, errs)
		}
	}
}
