package streams_test

import (
	"testing"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

func TestNextPut(t *testing.T) {
	const mb = 1_000_000
	tests := []struct {
		name  string
		sizes []int
		want  int
	}{
		{"empty", nil, 0},
		{"one", []int{10}, 1},
		{"records limit", repeat(streams.MaxRecordsPerPut+3, 10), streams.MaxRecordsPerPut},
		{"bytes limit", repeat(8, mb), 5},                                       // 5 MB fit in 5 MiB, 6 MB do not
		{"exactly the bytes", []int{streams.MaxBytesPerPut - 1, 1, 1}, 2},       // the limit is inclusive
		{"oversized first goes alone", []int{streams.MaxBytesPerPut + 1, 1}, 1}, // the stream refuses it, with its error
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := streams.NextPut(len(tt.sizes), func(i int) int { return tt.sizes[i] }); got != tt.want {
				t.Errorf("NextPut(%d records) = %d, want %d", len(tt.sizes), got, tt.want)
			}
		})
	}
}

func repeat(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}
