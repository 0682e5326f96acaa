package service_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ecos-cos/ecos/demoworld"
)

// grafanaDashboard is the dashboard operators import (docs/grafana.md).
const grafanaDashboard = "../deploy/grafana/ecos.json"

// TestGrafanaDashboard: the dashboard's every PromQL expression names only
// metric families ecos exports, and every family ecos defines is on one
// panel at least. The families are read from the code (every
// prometheus.*Opts literal) and checked against a real scrape of a demo
// service's /metrics, so neither list is a hand-written copy.
func TestGrafanaDashboard(t *testing.T) {
	defined := definedMetrics(t, "..")
	if len(defined) == 0 {
		t.Fatal("no metric definitions found in the code")
	}
	scraped := scrapeDemo(t)
	exported := map[string]string{} // family → type
	for name, typ := range defined {
		exported[name] = typ
	}
	for name, typ := range scraped {
		if _, ok := defined[name]; !ok && strings.HasPrefix(name, "ecos_") {
			t.Errorf("/metrics exports %s, which no prometheus.*Opts literal in the code defines: the code scan misses it", name)
		}
		exported[name] = typ
	}

	d := readDashboard(t)
	used := map[string]bool{}
	for _, p := range d.panels() {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q: datasource %q, want the import's ${DS_PROMETHEUS}", p.Title, p.Datasource.UID)
		}
		for _, tg := range p.Targets {
			names := metricNames(tg.Expr)
			if len(names) == 0 {
				t.Errorf("panel %q: %q names no metric", p.Title, tg.Expr)
			}
			for _, n := range names {
				family, ok := familyOf(n, exported)
				if !ok {
					t.Errorf("panel %q: %q reads %s, which ecos does not export", p.Title, tg.Expr, n)
				}
				used[family] = true
			}
		}
	}
	for name := range defined {
		if !used[name] {
			t.Errorf("metric family %s is on no panel of %s", name, grafanaDashboard)
		}
	}
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ H, W, X, Y int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type dashboard struct {
	UID    string `json:"uid"`
	Title  string `json:"title"`
	Inputs []struct {
		Name     string `json:"name"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	Panels []panel `json:"panels"`
}

// panels are the dashboard's panels that query, rows' included.
func (d *dashboard) panels() []panel {
	var out []panel
	for _, p := range d.Panels {
		if p.Type != "row" {
			out = append(out, p)
		}
		out = append(out, p.Panels...)
	}
	return out
}

func readDashboard(t *testing.T) *dashboard {
	t.Helper()
	b, err := os.ReadFile(grafanaDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", grafanaDashboard, err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("%s: uid %q, title %q: both are needed to import it", grafanaDashboard, d.UID, d.Title)
	}
	if !slices.ContainsFunc(d.Inputs, func(in struct {
		Name     string `json:"name"`
		PluginID string `json:"pluginId"`
	}) bool {
		return in.Name == "DS_PROMETHEUS" && in.PluginID == "prometheus"
	}) {
		t.Errorf("%s: no __inputs entry DS_PROMETHEUS: the import would not ask for the Prometheus data source", grafanaDashboard)
	}
	ids := map[int]string{}
	for _, p := range append(d.panels(), d.Panels...) {
		if q, dup := ids[p.ID]; dup && q != p.Title {
			t.Errorf("panels %q and %q share id %d", q, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if g := p.GridPos; g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is off Grafana's 24 columns", p.Title, g)
		}
	}
	return &d
}

var (
	promString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promBraces = regexp.MustCompile(`\{[^{}]*\}`)
	promRange  = regexp.MustCompile(`\[[^\]]*\]`)
	promGroup  = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent  = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promWords  = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true}
)

// metricNames are the metric names a PromQL expression reads: what is left
// of its identifiers once strings, label matchers, ranges, groupings,
// function calls and keywords are set aside.
func metricNames(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	s = promBraces.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promGroup.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(s, -1) {
		id := s[loc[0]:loc[1]]
		rest := strings.TrimLeft(s[loc[1]:], " \t\n")
		if promWords[strings.ToLower(id)] || strings.HasPrefix(rest, "(") || strings.HasPrefix(id, "$") {
			continue
		}
		if loc[0] > 0 && (s[loc[0]-1] == '$' || s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // a variable, or a number's exponent
		}
		out = append(out, id)
	}
	return out
}

// familyOf is the exported family a series name belongs to: itself, or a
// histogram's or summary's _bucket, _sum and _count.
func familyOf(name string, exported map[string]string) (string, bool) {
	if _, ok := exported[name]; ok {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		typ := exported[base]
		if typ == "histogram" || (typ == "summary" && suffix != "_bucket") {
			return base, true
		}
	}
	return "", false
}

// definedMetrics reads every prometheus.CounterOpts, GaugeOpts,
// HistogramOpts and SummaryOpts literal of the module's non-test code:
// family → type. A Name that is not a string literal fails the test, so
// nothing is skipped unseen.
func definedMetrics(t *testing.T, root string) map[string]string {
	t.Helper()
	kinds := map[string]string{"CounterOpts": "counter", "GaugeOpts": "gauge", "HistogramOpts": "histogram", "SummaryOpts": "summary"}
	out := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if n := e.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			sel, ok := lit.Type.(*ast.SelectorExpr)
			if !ok || kinds[sel.Sel.Name] == "" {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "prometheus" {
				return true
			}
			parts := map[string]string{}
			for _, el := range lit.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key := kv.Key.(*ast.Ident).Name
				if key != "Name" && key != "Namespace" && key != "Subsystem" {
					continue
				}
				bl, ok := kv.Value.(*ast.BasicLit)
				if !ok || bl.Kind != token.STRING {
					t.Errorf("%s: metric %s is not a string literal: the dashboard test cannot see it", fset.Position(kv.Pos()), key)
					continue
				}
				parts[key], _ = strconv.Unquote(bl.Value)
			}
			var name []string
			for _, k := range []string{"Namespace", "Subsystem", "Name"} {
				if parts[k] != "" {
					name = append(name, parts[k])
				}
			}
			out[strings.Join(name, "_")] = kinds[sel.Sel.Name]
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// scrapeDemo is the families a demo service's /metrics exports: family →
// type, from its # TYPE lines.
func scrapeDemo(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if _, err := demoworld.Install(context.Background(), dir, demoworld.InstallOptions{Devices: 2}); err != nil {
		t.Fatal(err)
	}
	s := serveDir(t, dir)
	// One request, so the families that show once something is counted
	// are there too.
	if _, accepted, err := s.client.Submit(context.Background(), sign(t, s.world, 2, 1, 1001)); err != nil || !accepted {
		t.Fatalf("a demo request: accepted=%v err=%v", accepted, err)
	}
	resp, err := http.Get(s.operator.BaseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = f[3]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if out["ecos_requests_total"] == "" || out["process_cpu_seconds_total"] == "" {
		t.Fatalf("the demo's /metrics lacks the families every service exports: %v", out)
	}
	return out
}
