package iglu

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// rawRequest is one request exactly as igluctl sends it.
type rawRequest struct {
	method, path string
	header       map[string]string
	body         string
}

func (rq rawRequest) send(t *testing.T, base string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(rq.method, base+rq.path, strings.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// igluctlSchema is a schema as igluctl prints it (SelfDescribingSchema normalised:
// "$schema" and "self" first); pretty selects spaces2 (igluctl 0.6–0.10) over noSpaces
// (0.11+, http4s with circe).
func igluctlSchema(version string, pretty bool) string {
	if pretty {
		return `{
  "$schema" : "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
  "self" : {
    "vendor" : "com.acme",
    "name" : "ctl",
    "format" : "jsonschema",
    "version" : "` + version + `"
  },
  "description" : "pushed by igluctl",
  "type" : "object",
  "properties" : {
    "a" : {
      "type" : "string",
      "maxLength" : 8,
      "description" : "a"
    }
  },
  "additionalProperties" : false
}`
	}
	return `{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","self":{"vendor":"com.acme","name":"ctl","format":"jsonschema","version":"` + version + `"},"description":"pushed by igluctl","type":"object","properties":{"a":{"type":"string","maxLength":8,"description":"a"}},"additionalProperties":false}`
}

// pushAnswer is what igluctl's push reads from a 2xx answer (Push.ServerMessage); it
// counts the schema as updated when the message contains "updated", else created.
type pushAnswer struct {
	Status   *int    `json:"status"`
	Message  string  `json:"message"`
	Location *string `json:"location"`
}

func checkPushAnswer(t *testing.T, what string, status int, body, wantMessage string) {
	t.Helper()
	if status/100 != 2 {
		t.Fatalf("%s: status %d (%s): igluctl reports a FAILURE", what, status, body)
	}
	var a pushAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil || a.Message == "" {
		t.Fatalf("%s: %s does not decode as igluctl's ServerMessage: %v", what, body, err)
	}
	if a.Message != wantMessage || a.Location == nil || a.Status == nil || *a.Status != status {
		t.Errorf("%s: answer %s, want message %q with location and status %d", what, body, wantMessage, status)
	}
}

// TestIgluctlStaticPush replays `igluctl static push` 0.13 (http4s client): one PUT per
// schema with the given key and isPublic, a JSON body; and the 0.6–0.10 flow (scalaj
// client): a health check, temporary keys from the master key, PUTs with the write key
// and form-encoded content type, then DELETEs of both keys.
func TestIgluctlStaticPush(t *testing.T) {
	srv, _ := newWritableServer(t, false)
	base := srv.URL

	// igluctl 0.13: igluctl static push DIR http://host APIKEY --public
	for _, v := range []string{"1-0-0", "1-0-1"} {
		status, body := rawRequest{"PUT", "/api/schemas/com.acme/ctl/jsonschema/" + v + "?isPublic=true", map[string]string{
			"apikey":       testSuperKey,
			"Content-Type": "application/json",
			"User-Agent":   "http4s-ember/0.23.18",
		}, igluctlSchema(v, false)}.send(t, base)
		checkPushAnswer(t, "0.13 PUT "+v, status, body, "Schema created")
	}
	// Pushing the same folder again: Iglu Server refuses with 409, which igluctl reports
	// as a failure with the server's message.
	status, body := rawRequest{"PUT", "/api/schemas/com.acme/ctl/jsonschema/1-0-0?isPublic=true", map[string]string{
		"apikey": testSuperKey, "Content-Type": "application/json",
	}, igluctlSchema("1-0-0", false)}.send(t, base)
	if status != 409 || body != `{"message":"Schema already exists"}`+"\n" {
		t.Errorf("0.13 PUT again = %d %s", status, body)
	}
	// igluctl 0.13 deletes keys with the key in a "key" header.
	read, _ := keys(t, base, "com.acme")
	status, body = rawRequest{"DELETE", "/api/auth/keygen", map[string]string{"apikey": testSuperKey, "key": read}, ""}.send(t, base)
	if status != 200 {
		t.Errorf("0.13 DELETE keygen (key header) = %d %s", status, body)
	}

	// igluctl 0.6–0.10.
	form := "application/x-www-form-urlencoded"
	status, body = rawRequest{"GET", "/api/meta/health", map[string]string{"User-Agent": "scalaj-http/1.0"}, ""}.send(t, base)
	if status != 200 || !strings.Contains(body, "OK") {
		t.Fatalf("health = %d %q: igluctl would take this server for a pre-0.6 one", status, body)
	}
	status, body = rawRequest{"POST", "/api/auth/keygen", map[string]string{"apikey": testSuperKey, "Content-Type": form, "User-Agent": "scalaj-http/1.0"}, `{"vendorPrefix":"*"}`}.send(t, base)
	var tmp struct{ Read, Write string }
	if status != 200 || json.Unmarshal([]byte(body), &tmp) != nil {
		t.Fatalf("keygen = %d %s", status, body)
	}
	if _, err := uuid.Parse(tmp.Read); err != nil {
		t.Fatalf("keygen read key %q is not a UUID", tmp.Read)
	}
	if _, err := uuid.Parse(tmp.Write); err != nil {
		t.Fatalf("keygen write key %q is not a UUID", tmp.Write)
	}
	status, body = rawRequest{"PUT", "/api/schemas/com.acme/ctl/jsonschema/1-0-2?isPublic=true", map[string]string{"apikey": tmp.Write, "Content-Type": form, "User-Agent": "scalaj-http/1.0"}, igluctlSchema("1-0-2", true)}.send(t, base)
	checkPushAnswer(t, "0.10 PUT 1-0-2", status, body, "Schema created")
	for _, k := range []string{tmp.Write, tmp.Read} {
		status, body = rawRequest{"DELETE", "/api/auth/keygen?key=" + k, map[string]string{"apikey": testSuperKey, "User-Agent": "scalaj-http/1.0"}, ""}.send(t, base)
		if status != 200 {
			t.Errorf("DELETE keygen?key= = %d %s", status, body)
		}
	}
	// The deleted write key no longer writes.
	status, _ = rawRequest{"PUT", "/api/schemas/com.acme/ctl/jsonschema/1-0-3?isPublic=true", map[string]string{"apikey": tmp.Write, "Content-Type": form}, igluctlSchema("1-0-3", true)}.send(t, base)
	if status != 403 {
		t.Errorf("PUT with a deleted temporary key = %d, want 403", status)
	}
}

// TestIgluctlStaticPull replays `igluctl static pull` 0.13: GET /api/schemas?repr=canonical
// with accept: application/json (and the apikey header when one is given); igluctl
// decodes a JSON array of self-describing schemas and writes each one at its self's path.
func TestIgluctlStaticPull(t *testing.T) {
	srv, _ := newWritableServer(t, false)
	base := srv.URL
	for _, v := range []string{"1-0-0", "1-0-1"} {
		if status, body, _ := callKey(t, "PUT", base+"/api/schemas/com.acme/ctl/jsonschema/"+v, testSuperKey, igluctlSchema(v, false)); status != 201 {
			t.Fatalf("PUT %s = %d %s", v, status, body)
		}
	}
	for _, tt := range []struct {
		name        string
		header      map[string]string
		wantPrivate bool
	}{
		{"anonymous", map[string]string{"accept": "application/json"}, false},
		{"with a key", map[string]string{"accept": "application/json", "apikey": testSuperKey}, true},
	} {
		status, body := rawRequest{"GET", "/api/schemas?repr=canonical", tt.header, ""}.send(t, base)
		if status != 200 {
			t.Fatalf("%s: pull = %d %s", tt.name, status, body)
		}
		var docs []struct {
			Schema string `json:"$schema"`
			Self   *struct {
				Vendor, Name, Format, Version string
			} `json:"self"`
		}
		if err := json.Unmarshal([]byte(body), &docs); err != nil {
			t.Fatalf("%s: pull answer is not a list of schemas: %v", tt.name, err)
		}
		private := 0
		for _, d := range docs {
			if d.Self == nil || d.Schema != MetaSchemaURI {
				t.Fatalf("%s: a pulled schema has no self or $schema: igluctl fails to parse it", tt.name)
			}
			if _, err := ParseSchemaKey("iglu:" + d.Self.Vendor + "/" + d.Self.Name + "/" + d.Self.Format + "/" + d.Self.Version); err != nil {
				t.Errorf("%s: pulled self %+v: %v", tt.name, *d.Self, err)
			}
			if d.Self.Name == "ctl" {
				private++
			}
		}
		if (private == 2) != tt.wantPrivate {
			t.Errorf("%s: pulled %d private schemas, want them: %v", tt.name, private, tt.wantPrivate)
		}
	}
}
