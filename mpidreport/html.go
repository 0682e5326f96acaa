package mpidreport

import (
	_ "embed"
	"encoding/base64"
	"html/template"
	"io"
)

//go:embed report.html.tmpl
var pageSource string

var page = template.Must(template.New("mpid").Parse(pageSource))

// WriteHTML writes the report as one self-contained HTML page: the
// headline, the parties that sent none, the charts (inline PNGs) and the
// detail table. It loads nothing from anywhere, so it can be mailed.
func (r *Report) WriteHTML(w io.Writer) error {
	charts, err := r.Charts()
	if err != nil {
		return err
	}
	type img struct {
		Name string
		Src  template.URL
	}
	imgs := make([]img, len(charts))
	for i, c := range charts {
		imgs[i] = img{Name: c.Name, Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG))}
	}
	type fig struct {
		Label  string
		Value  int64
		Indent bool
	}
	var figs []fig
	for _, f := range r.figures() {
		figs = append(figs, fig{f.label, f.value, f.indent})
	}
	return page.Execute(w, map[string]any{"R": r, "Title": r.Title(), "Figures": figs, "Charts": imgs, "Header": Header})
}
