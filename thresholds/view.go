package thresholds

import (
	"context"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
)

// View is one User's anomaly detection settings and where they stand.
type View struct {
	User eui.EUI
	// Files is every accepted file, newest (the one in force) first.
	Files []store.ADTFile
	// Thresholds are those in force with their current counts: the file's,
	// or the defaults for a User with no file.
	Thresholds []Count
	Held       int // requests held now
}

// Count is a threshold and the requests counted in its window now.
type Count struct {
	adt.Threshold
	Count uint64
}

// Show returns user's settings and counts. Documents are left out of
// Files: the history is for reading, the file for downloading.
func (t *Thresholds) Show(ctx context.Context, user eui.EUI) (View, error) {
	files, err := t.cfg.Store.ADTFiles(ctx, user)
	if err != nil {
		return View{}, err
	}
	for i := range files {
		files[i].Document = nil
	}
	v := View{User: user, Files: files}
	for _, c := range t.cfg.Counter.Counts(user, t.cfg.Now()) {
		v.Thresholds = append(v.Thresholds, Count{Threshold: c.Rule, Count: c.Count})
	}
	held, err := t.Holds(ctx, store.HoldQuery{User: &user, States: []store.HoldState{store.HoldHeld}})
	if err != nil {
		return View{}, err
	}
	v.Held = len(held)
	return v, nil
}

// ShowDCC returns the DCC-wide thresholds with their current counts.
func (t *Thresholds) ShowDCC() []Count {
	var out []Count
	for _, c := range t.cfg.Counter.DCCCounts(t.cfg.Now()) {
		out = append(out, Count{Threshold: c.Rule, Count: c.Count})
	}
	return out
}

// Holds returns every hold q selects, however many pages that takes.
func (t *Thresholds) Holds(ctx context.Context, q store.HoldQuery) ([]store.Held, error) {
	const page = 1000
	var out []store.Held
	q.Limit = page
	for {
		hs, err := t.cfg.Store.Holds(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
		if len(hs) < page {
			return out, nil
		}
		q.AfterRef = hs[len(hs)-1].Ref
	}
}
