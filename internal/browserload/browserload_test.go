package browserload

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// TestBody checks the shape the package promises: valid JSON, ten events of the four
// kinds, three contexts in every base64url cx, about 20 KB, the same bytes for the same
// request and different ids for another.
func TestBody(t *testing.T) {
	var g Generator
	body := g.Body(7)
	if !bytes.Equal(body, (&Generator{}).Body(7)) {
		t.Error("Body(7) differs between two generators")
	}
	if n := len(body); n < 18_000 || n > 24_000 {
		t.Errorf("len(Body(7)) = %d, want about 20 KB", n)
	}
	var pd struct {
		Schema string              `json:"schema"`
		Data   []map[string]string `json:"data"`
	}
	if err := json.Unmarshal(body, &pd); err != nil {
		t.Fatalf("Body(7) is not a tp2 payload: %v\n%s", err, body)
	}
	if len(pd.Data) != EventsPerRequest {
		t.Fatalf("Body(7) has %d events, want %d", len(pd.Data), EventsPerRequest)
	}
	kinds := map[string]int{}
	for i, ev := range pd.Data {
		kinds[ev["e"]]++
		dec, err := base64.RawURLEncoding.DecodeString(ev["cx"])
		if err != nil {
			t.Fatalf("event %d: cx: %v", i, err)
		}
		var cx struct {
			Data []struct {
				Schema string          `json:"schema"`
				Data   json.RawMessage `json:"data"`
			} `json:"data"`
		}
		if err := json.Unmarshal(dec, &cx); err != nil {
			t.Fatalf("event %d: cx %s: %v", i, dec, err)
		}
		var names []string
		for _, c := range cx.Data {
			names = append(names, strings.TrimPrefix(c.Schema, "iglu:com.snowplowanalytics.snowplow/"))
		}
		if got := strings.Join(names, ","); got != "web_page/jsonschema/1-0-0,browser_context/jsonschema/2-0-0,client_session/jsonschema/1-0-2" {
			t.Errorf("event %d: contexts %s", i, got)
		}
		if ev["e"] == "ue" {
			ue, err := base64.RawURLEncoding.DecodeString(ev["ue_px"])
			if err != nil || !json.Valid(ue) || !bytes.Contains(ue, []byte("link_click/jsonschema/1-0-1")) {
				t.Errorf("event %d: ue_px %s (%v), want a link_click", i, ue, err)
			}
		}
	}
	if kinds["pv"] == 0 || kinds["pp"] == 0 || kinds["se"] == 0 || kinds["ue"] == 0 {
		t.Errorf("event kinds %v, want page views, pings, structured events and link clicks", kinds)
	}
	other := g.Body(8)
	var pd8 struct {
		Data []map[string]string `json:"data"`
	}
	if err := json.Unmarshal(other, &pd8); err != nil {
		t.Fatal(err)
	}
	for i := range pd.Data {
		for _, k := range []string{"eid", "sid", "duid", "cx", "dtm"} {
			if pd.Data[i][k] == pd8.Data[i][k] {
				t.Errorf("event %d: %s is %q in requests 7 and 8, want a new one", i, k, pd.Data[i][k])
			}
		}
	}
}
