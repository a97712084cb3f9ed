package loaders

import (
	"strings"
	"testing"
	"unsafe"
)

// TestPendingRawKeepsNoRequest checks that the ids pendingRaw keeps do not share memory
// with the request they were cut from: the ring holds ids long after their event was
// loaded, and a substring would keep the whole request alive.
func TestPendingRawKeepsNoRequest(t *testing.T) {
	request := strings.Repeat("x", 20<<10) + "a7f3c9e2-1b4d-4e8f-9a6c-3d2e1f0b9c8a" + strings.Repeat("y", 20<<10)
	id := request[20<<10 : 20<<10+36]
	start := uintptr(unsafe.Pointer(unsafe.StringData(request)))
	end := start + uintptr(len(request))
	inRequest := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return len(s) > 0 && p >= start && p < end
	}

	p := newPendingRaw(nil)
	p.put(id, `{"raw":1}`)
	for k := range p.byID {
		if inRequest(k) {
			t.Errorf("pendingRaw keeps map key %q inside the request it was cut from", k)
		}
	}
	for _, k := range p.ring[:p.n] {
		if inRequest(k) {
			t.Errorf("pendingRaw keeps ring id %q inside the request it was cut from", k)
		}
	}
	if got := p.take(id); got != `{"raw":1}` {
		t.Errorf("take(%q) = %q, want %q", id, got, `{"raw":1}`)
	}
}
