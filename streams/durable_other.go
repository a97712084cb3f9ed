//go:build !linux

package streams

import "os"

// preallocate does nothing where fallocate is not available: segments grow as they are
// written.
func preallocate(*os.File, int64) error { return nil }

// datasync flushes f.
func datasync(f *os.File) error { return f.Sync() }
