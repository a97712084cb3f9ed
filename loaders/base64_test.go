package loaders

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

func TestAppendBase64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		for _, prefix := range [][]byte{nil, []byte("line\n")} {
			want := base64.StdEncoding.AppendEncode(bytes.Clone(prefix), src)
			if got := appendBase64(bytes.Clone(prefix), src); !bytes.Equal(got, want) {
				t.Errorf("appendBase64(%q, %x) = %q, want %q", prefix, src, got, want)
			}
		}
	}
	// Every 12-bit value, in every position of an 8-byte load.
	src := make([]byte, 0, 3*4096)
	for v := range 4096 {
		src = append(src, byte(v>>4), byte(v<<4|v>>8), byte(v))
	}
	if got, want := appendBase64(nil, src), base64.StdEncoding.AppendEncode(nil, src); !bytes.Equal(got, want) {
		t.Errorf("appendBase64 of every 12-bit value differs from base64.StdEncoding")
	}
}

func FuzzAppendBase64(f *testing.F) {
	f.Add([]byte(nil), []byte(""))
	f.Add([]byte("x"), []byte("\x0b\x00\x64\n\x00\xff\x01\x02\x03"))
	f.Add([]byte(nil), []byte("iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"))
	f.Fuzz(func(t *testing.T, prefix, src []byte) {
		want := base64.StdEncoding.AppendEncode(bytes.Clone(prefix), src)
		if got := appendBase64(bytes.Clone(prefix), src); !bytes.Equal(got, want) {
			t.Errorf("appendBase64(%q, %x) = %q, want %q", prefix, src, got, want)
		}
	})
}

func BenchmarkAppendBase64(b *testing.B) {
	src := make([]byte, 20<<10) // a browser POST of 10 events, as Thrift
	r := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = byte(r.Uint32())
	}
	var dst []byte
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = base64.StdEncoding.AppendEncode(dst[:0], src)
		}
	})
	b.Run("appendBase64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			dst = appendBase64(dst[:0], src)
		}
	})
}
