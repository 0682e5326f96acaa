package custody

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrExists: a ceremony output is already there. Outputs are never
// overwritten: a second run must not destroy the first one's result.
var ErrExists = errors.New("exists: a ceremony never overwrites an output")

// CheckAbsent refuses to start a ceremony if any of its outputs exists,
// before any step, so a ceremony never stops half way for that.
func CheckAbsent(paths ...string) error {
	for _, p := range paths {
		_, err := os.Lstat(p)
		switch {
		case err == nil:
			return fmt.Errorf("%s %w", p, ErrExists)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("checking output %s: %w", p, err)
		}
	}
	return nil
}

// checkParents refuses outputs whose directory is not there, before the
// first step rather than at the last.
func checkParents(paths ...string) error {
	for _, p := range paths {
		dir := filepath.Dir(p)
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("the directory of output %s: %w", p, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("the directory of output %s: %s is not a directory", p, dir)
		}
	}
	return nil
}

// WriteNew writes a new file (O_CREATE|O_EXCL: never over an existing
// one) and syncs it; on failure it removes what it made.
func WriteNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s %w", path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}
