//go:build unix

package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on path, created beside the database,
// and writes me into it. flock, unlike fcntl locks, belongs to the open
// file, so a second open in the same process is refused too. The file is
// left in place on release: removing it would let two processes lock two
// different files of one name.
func lockFile(path, database string, me Holder) (*InstanceLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: instance lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			h, known := readHolder(f)
			return nil, &LockedError{Database: database, Holder: h, Known: known}
		}
		return nil, fmt.Errorf("store: instance lock %s: %w", path, err)
	}
	b, _ := json.Marshal(me)
	if err := writeHolder(f, append(b, '\n')); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: instance lock %s: %w", path, err)
	}
	return &InstanceLock{release: func() error {
		// Emptied first, so a reader never names a process that left.
		err := f.Truncate(0)
		return errors.Join(err, f.Close())
	}}, nil
}

func writeHolder(f *os.File, b []byte) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(b, 0)
	return err
}

func readHolder(f *os.File) (Holder, bool) {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<12))
	var h Holder
	if err != nil || json.Unmarshal(b, &h) != nil || h.PID == 0 {
		return Holder{}, false
	}
	return h, true
}

// fileHolder says who holds the lock on path: a shared lock that cannot
// be had means an exclusive one is held.
func fileHolder(path string) (Holder, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Holder{}, false, nil
	}
	if err != nil {
		return Holder{}, false, fmt.Errorf("store: instance lock: %w", err)
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		return Holder{}, false, nil // closing f drops the shared lock
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		return Holder{}, false, fmt.Errorf("store: instance lock %s: %w", path, err)
	}
	h, _ := readHolder(f) // Holder{} when it did not say
	return h, true, nil
}

// processAlive says whether a process of this host with that pid runs.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
