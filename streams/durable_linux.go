package streams

import (
	"os"
	"syscall"
)

// preallocate reserves n bytes for f, so that appending within them changes no file
// size and fdatasync need not commit metadata (on this machine 5 ms per fsync of an
// appended file against 0.8 ms).
func preallocate(f *os.File, n int64) error {
	return syscall.Fallocate(int(f.Fd()), 0, 0, n)
}

// datasync flushes f's data (and the metadata needed to read it back).
func datasync(f *os.File) error {
	return syscall.Fdatasync(int(f.Fd()))
}
