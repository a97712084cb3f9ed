package streams

import (
	"math"
	"strings"
	"testing"
)

// FuzzMemoryParseSeq checks that parseSeq places any sequence number where its numeric
// value puts it among the numbers the stream issues.
func FuzzMemoryParseSeq(f *testing.F) {
	cfg := DefaultMemoryConfig()
	cfg.Name = "fuzz"
	m, err := NewMemory(cfg, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"", "0", "1", "x", m.formatSeq(0), m.formatSeq(1), m.formatSeq(42), m.formatSeq(math.MaxUint64 - 1),
		m.formatSeq(math.MaxUint64), "00" + m.formatSeq(7), m.epoch + "99999999999999999999",
		strings.Repeat("9", 129), strings.Repeat("9", 130), "12a",
	} {
		f.Add(seed)
	}
	first, last := m.formatSeq(0), m.formatSeq(math.MaxUint64)
	f.Fuzz(func(t *testing.T, seq string) {
		rel, counter, err := m.parseSeq(seq)
		if err != nil {
			if isDecimal(seq) && len(seq) <= maxSeqDigits {
				t.Fatalf("parseSeq(%q) error: %v", seq, err)
			}
			return
		}
		if !isDecimal(seq) || len(seq) > maxSeqDigits {
			t.Fatalf("parseSeq(%q) accepted a bad sequence number", seq)
		}
		switch rel {
		case -1:
			if CompareSequenceNumbers(seq, first) >= 0 {
				t.Fatalf("parseSeq(%q) = before the run, but it is not below %s", seq, first)
			}
		case 0:
			if CompareSequenceNumbers(seq, m.formatSeq(counter)) != 0 || counter == math.MaxUint64 {
				t.Fatalf("parseSeq(%q) = counter %d, which formats as %s", seq, counter, m.formatSeq(counter))
			}
		case 1:
			if CompareSequenceNumbers(seq, last) < 0 {
				t.Fatalf("parseSeq(%q) = after the run, but it is below %s", seq, last)
			}
		default:
			t.Fatalf("parseSeq(%q) rel = %d", seq, rel)
		}
	})
}
