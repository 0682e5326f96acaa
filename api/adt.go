package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ecos-cos/ecos/adt"
	"github.com/ecos-cos/ecos/ecoserr"
	"github.com/ecos-cos/ecos/eui"
	"github.com/ecos-cos/ecos/store"
	"github.com/ecos-cos/ecos/thresholds"
)

// Thresholds is anomaly detection as the HTTP edges see it;
// *thresholds.Thresholds satisfies it.
type Thresholds interface {
	Submit(ctx context.Context, b []byte, source string, legacy bool) (*thresholds.Accepted, error)
	Act(ctx context.Context, b []byte) ([]store.Held, error)
	Decide(ctx context.Context, ref uint64, release bool, by string) (store.Held, error)
	Show(ctx context.Context, user eui.EUI) (thresholds.View, error)
	ShowDCC() []thresholds.Count
	Holds(ctx context.Context, q store.HoldQuery) ([]store.Held, error)
}

// ThresholdRow is one threshold in force, in JSON.
type ThresholdRow struct {
	SRV             string `json:"srv"`
	Warning         uint64 `json:"warning"`
	Quarantine      uint64 `json:"quarantine"`
	IntervalMinutes uint64 `json:"interval_minutes"`
	// Default marks the zero threshold given to a critical SRV the file
	// has no row for.
	Default bool    `json:"default,omitempty"`
	Count   *uint64 `json:"count,omitempty"` // requests in the window now; only where counted
}

// ADTAccepted answers an accepted ADT file.
type ADTAccepted struct {
	User         string         `json:"user"`
	Sequence     uint64         `json:"sequence"`
	Legacy       bool           `json:"legacy,omitempty"`
	SignerSerial string         `json:"signer_serial"`
	Thresholds   []ThresholdRow `json:"thresholds"`
}

// FileRefusal answers a refused file: every problem, with its line.
type FileRefusal struct {
	Error    string        `json:"error"`
	Problems []FileProblem `json:"problems,omitempty"`
}

type FileProblem struct {
	Line    int    `json:"line"` // 0: the file as a whole
	Message string `json:"message"`
}

// maxFileBody bounds an ADT or action file; adt refuses larger ones with a
// problem of its own.
const maxFileBody = adt.MaxSize + 1

func readFile(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFileBody))
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); err != nil && !tooLarge {
		return nil, &httpError{Code: http.StatusBadRequest, Msg: "could not read the request body", Err: err}
	}
	return b, nil
}

// postADT accepts a User's signed ADT file.
func (s *server) postADT(source string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := readFile(w, r)
		if err != nil {
			return err
		}
		if source == sourceUser {
			if err := checkFileUser(r, b, false); err != nil {
				return err
			}
		}
		legacy := source == sourceOperator && r.URL.Query().Get("legacy") == "true"
		a, err := s.adt.Submit(r.Context(), b, source, legacy)
		if err != nil {
			return refuseFile(w, err)
		}
		body := ADTAccepted{User: a.File.User.String(), Sequence: a.File.Sequence, Legacy: a.File.Legacy,
			SignerSerial: a.Signer.SerialNumber.String(), Thresholds: thresholdBodies(a.Thresholds)}
		writeJSON(w, http.StatusOK, body)
		return nil
	}
}

// postActions applies a User's signed Quarantined Communications Action
// File.
func (s *server) postActions(w http.ResponseWriter, r *http.Request) error {
	b, err := readFile(w, r)
	if err != nil {
		return err
	}
	if err := checkFileUser(r, b, true); err != nil {
		return err
	}
	held, err := s.adt.Act(r.Context(), b)
	if err != nil {
		return refuseFile(w, err)
	}
	writeJSON(w, http.StatusOK, HoldList{Holds: thresholds.Report(held)})
	return nil
}

type HoldList struct {
	Holds []thresholds.ReportRow `json:"holds"`
}

// refuseFile answers a refused file with every problem found, or returns
// err for the caller's error path when it is not the file's fault.
func refuseFile(w http.ResponseWriter, err error) error {
	if ps, ok := errors.AsType[*adt.Problems](err); ok {
		code := http.StatusUnprocessableEntity
		if errors.Is(err, adt.ErrReplay) {
			code = http.StatusConflict
		}
		body := FileRefusal{Error: fmt.Sprintf("file refused: %d problem(s)", len(*ps))}
		for _, p := range *ps {
			body.Problems = append(body.Problems, FileProblem{Line: p.Line, Message: p.Msg})
		}
		writeJSON(w, code, body)
		return nil
	}
	switch {
	case errors.Is(err, store.ErrReplay):
		writeJSON(w, http.StatusConflict, FileRefusal{Error: "file refused: " + publicStoreMessage(err)})
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrTransition):
		writeJSON(w, http.StatusConflict, FileRefusal{Error: "actions refused, nothing changed: " + publicStoreMessage(err)})
	case ecoserr.ReasonOf(err) == ecoserr.Malformed:
		writeJSON(w, http.StatusUnprocessableEntity, FileRefusal{Error: err.Error()})
	default:
		return err
	}
	return nil
}

// publicStoreMessage is a store error's own message without the package
// prefix: store errors for refused files and decisions name refs and
// sequence numbers the sender gave, nothing internal.
func publicStoreMessage(err error) string { return strings.TrimPrefix(err.Error(), "store: ") }

func thresholdBodies(th []adt.Threshold) []ThresholdRow {
	out := make([]ThresholdRow, len(th))
	for i, t := range th {
		out[i] = thresholdBodyOf(t)
	}
	return out
}

func thresholdBodyOf(t adt.Threshold) ThresholdRow {
	return ThresholdRow{SRV: t.SRV, Warning: t.Warning, Quarantine: t.Quarantine, IntervalMinutes: t.Interval, Default: t.Default}
}
