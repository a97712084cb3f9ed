package emulatortest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Each emulator answers an unsigned request with an AWS-style JSON error, which
// shows that what listens is the emulator and not something else on the port.
func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name, contentType string
		get               func(testing.TB) string
	}{
		{"kinesis", "application/x-amz-json-1.1", Kinesis},
		{"dynamodb", "application/x-amz-json-1.0", DynamoDB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.get(t)
			if !strings.HasPrefix(u, "http://127.0.0.1:") {
				t.Errorf("endpoint = %q, want http://127.0.0.1:<port>", u)
			}
			req, err := http.NewRequest(http.MethodPost, u, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("POST %s: %v", u, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "UnknownOperationException") {
				t.Errorf("POST %s = %d %s, want 400 UnknownOperationException (a request with no target)", u, resp.StatusCode, body)
			}
		})
	}
}
