package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// deployCmd runs `snowplow-mini deploy ...` with the given environment.
func deployCmd(env map[string]string, args ...string) (int, string) {
	var out bytes.Buffer
	code := run(context.Background(), append([]string{"deploy"}, args...), func(k string) string { return env[k] }, &out, &out, nil)
	return code, out.String()
}

const deploySchemas = "deploy/testdata/schemas"

func schemaStatus(t *testing.T, base, key, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/schemas/"+path, nil)
	req.Header.Set("apikey", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDeployPushSchemas pushes a schema folder to serve's own Iglu Server API: in
// SchemaVer order, again (unchanged), refused by lint, and to a server that starts late.
func TestDeployPushSchemas(t *testing.T) {
	key := uuid.NewString()
	s := startServe(t, t.TempDir(), nil, "--iglu-super-api-key", key)
	env := map[string]string{"SNOWPLOW_MINI_IGLU_API_KEY": key}

	code, out := deployCmd(env, "aws", "push-schemas", "--schemas", deploySchemas, "--iglu-url", s.base)
	if code != 0 || !strings.Contains(out, "2 schemas published (2 created") {
		t.Fatalf("push-schemas = %d\n%s", code, out)
	}
	if strings.Index(out, "jsonschema/1-0-0") > strings.Index(out, "jsonschema/1-0-1") {
		t.Errorf("1-0-1 was pushed before 1-0-0:\n%s", out)
	}
	if strings.Contains(out, key) {
		t.Error("push-schemas printed the API key")
	}
	for _, v := range []string{"1-0-0", "1-0-1"} {
		if st := schemaStatus(t, s.base, key, "com.acme/checkout/jsonschema/"+v); st != http.StatusOK {
			t.Errorf("GET checkout %s after push = %d", v, st)
		}
	}
	if code, out := deployCmd(env, "aws", "push-schemas", "--schemas", deploySchemas, "--iglu-url", s.base); code != 0 || !strings.Contains(out, "2 unchanged") && !strings.Contains(out, "2 updated") {
		t.Errorf("second push-schemas = %d\n%s", code, out)
	}

	// A folder with one schema the lint refuses: nothing is pushed.
	bad := t.TempDir()
	good := filepath.Join(bad, "com.acme", "refund", "jsonschema", "1-0-0")
	broken := filepath.Join(bad, "com.acme", "refund", "jsonschema", "1-0-1")
	for p, body := range map[string]string{
		good:   `{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","description":"a refund","self":{"vendor":"com.acme","name":"refund","format":"jsonschema","version":"1-0-0"},"type":"object","properties":{"id":{"type":"string","maxLength":10}},"additionalProperties":false}`,
		broken: `{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","description":"a refund","self":{"vendor":"com.acme","name":"refund","format":"jsonschema","version":"1-0-0"},"type":"object"}`,
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out = deployCmd(env, "aws", "push-schemas", "--schemas", bad, "--iglu-url", s.base)
	if code != 1 || !strings.Contains(out, "1-0-1") || !strings.Contains(out, "ERROR") {
		t.Errorf("push-schemas of a folder with a lint error = %d, want 1 naming the file:\n%s", code, out)
	}
	if st := schemaStatus(t, s.base, key, "com.acme/refund/jsonschema/1-0-0"); st != http.StatusNotFound {
		t.Errorf("GET refund 1-0-0 after a refused push = %d, want 404 (nothing pushed)", st)
	}

	// Without a key.
	if code, out := deployCmd(nil, "aws", "push-schemas", "--schemas", deploySchemas, "--iglu-url", s.base, "--out", t.TempDir()); code == 0 {
		t.Errorf("push-schemas without a key = 0\n%s", out)
	}
}

// TestDeployPushSchemasServerStartsLate starts the Iglu Server a second after the push:
// the push retries until it answers.
func TestDeployPushSchemasServerStartsLate(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	key := uuid.NewString()
	done := make(chan struct{})
	var code int
	var out string
	go func() {
		defer close(done)
		code, out = deployCmd(map[string]string{"SNOWPLOW_MINI_IGLU_API_KEY": key}, "aws", "push-schemas",
			"--schemas", deploySchemas, "--iglu-url", "http://127.0.0.1:"+strconv.Itoa(port), "--retry-timeout", "60s")
	}()
	time.Sleep(time.Second) // the push is refused meanwhile
	s := startServe(t, t.TempDir(), nil, "--iglu-super-api-key", key, "--addr", "127.0.0.1:"+strconv.Itoa(port))
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("push-schemas did not finish")
	}
	if code != 0 || !strings.Contains(out, "2 created") {
		t.Fatalf("push-schemas to a server that started late = %d\n%s", code, out)
	}
	if st := schemaStatus(t, s.base, key, "com.acme/checkout/jsonschema/1-0-1"); st != http.StatusOK {
		t.Errorf("GET checkout 1-0-1 = %d", st)
	}
}

// fakeTerraform puts a terraform (and a tofu) on PATH that records its working
// directory and arguments and answers `output -json` as a deployed stack would.
func fakeTerraform(t *testing.T, igluDNS string) (log string) {
	t.Helper()
	bin := t.TempDir()
	log = filepath.Join(t.TempDir(), "terraform.log")
	script := `#!/bin/sh
echo "$(basename "$0")|$PWD|$*" >> "` + log + `"
case "$*" in
  *"output -json"*)
    case "$1" in
      *iglu_server) echo '{"iglu_server_dns_name":{"sensitive":false,"type":"string","value":"` + igluDNS + `"}}' ;;
      *pipeline) echo '{"collector_dns_name":{"sensitive":false,"type":"string","value":"sp-collector-lb-1.eu-west-1.elb.amazonaws.com"}}' ;;
      *) echo '{}' ;;
    esac ;;
esac
`
	for _, name := range []string{"terraform", "tofu"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

func readLog(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// TestDeployApplyOrder runs init, apply and destroy with a fake terraform and serve as
// the new Iglu Server: the stacks run in the quick start's order, the Iglu Server's
// address reaches the pipeline, the schemas reach the Iglu Server, and no secret is
// printed.
func TestDeployApplyOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "aws")
	sshKey := filepath.Join(t.TempDir(), "id.pub")
	if err := os.WriteFile(sshKey, []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIApplyTest apply@test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := deployCmd(nil, "aws", "init", "--out", dir, "--schemas", deploySchemas, "--vpc-id", "vpc-0a1b2c3d",
		"--subnet-ids", "subnet-0a1b2c3d,subnet-4e5f6a7b", "--ssh-public-key-file", sshKey, "--accept-license", "--target", "postgres")
	if code != 0 || !strings.Contains(out, "passes the offline check") {
		t.Fatalf("init = %d\n%s", code, out)
	}
	secrets, err := os.ReadFile(filepath.Join(dir, "iglu_server", "secrets.auto.tfvars"))
	if err != nil {
		t.Fatal(err)
	}
	key := ""
	for _, l := range strings.Split(string(secrets), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == "iglu_super_api_key" {
			key = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	s := startServe(t, t.TempDir(), nil, "--iglu-super-api-key", key)
	log := fakeTerraform(t, strings.TrimPrefix(s.base, "http://"))

	code, out = deployCmd(nil, "aws", "apply", "--out", dir, "--auto-approve")
	if code != 0 {
		t.Fatalf("apply = %d\n%s", code, out)
	}
	for _, want := range []string{"rough", "a month", "RDS PostgreSQL", "Kinesis stream", "sp-collector-lb-1.eu-west-1.elb.amazonaws.com"} {
		if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, key) {
		t.Error("apply printed the Iglu API key")
	}
	igluDir, pipeDir := filepath.Join(dir, "iglu_server"), filepath.Join(dir, "pipeline")
	want := []string{
		"-chdir=" + igluDir + " init -input=false",
		"-chdir=" + igluDir + " plan -input=false -out=tfplan",
		"-chdir=" + igluDir + " apply -input=false tfplan",
		"-chdir=" + igluDir + " output -json",
		"-chdir=" + pipeDir + " init -input=false",
		"-chdir=" + pipeDir + " plan -input=false -out=tfplan",
		"-chdir=" + pipeDir + " apply -input=false tfplan",
		"-chdir=" + pipeDir + " output -json",
	}
	got := readLog(t, log)
	if len(got) != len(want) {
		t.Fatalf("terraform ran %d times, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	cwd, _ := os.Getwd()
	for i, g := range got {
		parts := strings.SplitN(g, "|", 3)
		if parts[0] != "terraform" || parts[1] != cwd || parts[2] != want[i] {
			t.Errorf("terraform call %d = %q, want terraform in %s with %q", i, g, cwd, want[i])
		}
	}
	auto, err := os.ReadFile(filepath.Join(pipeDir, "iglu_server.auto.tfvars"))
	if err != nil || !strings.Contains(string(auto), `iglu_server_dns_name = "`+s.base+`"`) {
		t.Errorf("pipeline/iglu_server.auto.tfvars = %q, %v; want the Iglu Server's address %s", auto, err, s.base)
	}
	if st := schemaStatus(t, s.base, key, "com.acme/checkout/jsonschema/1-0-1"); st != http.StatusOK {
		t.Errorf("the schemas were not pushed to the Iglu Server: GET = %d", st)
	}
	if code, out := deployCmd(nil, "aws", "check", "--out", dir); code != 0 {
		t.Errorf("check after apply = %d\n%s", code, out)
	}

	// destroy: pipeline first, then the Iglu stack; with tofu.
	if err := os.Remove(log); err != nil {
		t.Fatal(err)
	}
	code, out = deployCmd(nil, "aws", "destroy", "--out", dir, "--auto-approve", "--terraform-bin", "tofu")
	if code != 0 || !strings.Contains(out, "Left for you to remove by hand") || !strings.Contains(out, "aws s3 rm") {
		t.Fatalf("destroy = %d\n%s", code, out)
	}
	got = readLog(t, log)
	wantDestroy := []string{
		"tofu|" + cwd + "|-chdir=" + pipeDir + " init -input=false",
		"tofu|" + cwd + "|-chdir=" + pipeDir + " destroy -input=false -auto-approve",
		"tofu|" + cwd + "|-chdir=" + igluDir + " init -input=false",
		"tofu|" + cwd + "|-chdir=" + igluDir + " destroy -input=false -auto-approve",
	}
	if strings.Join(got, "\n") != strings.Join(wantDestroy, "\n") {
		t.Errorf("destroy ran:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantDestroy, "\n"))
	}
}

// TestDeployWithoutTerraform prints the exact commands when there is no binary, and
// apply refuses a folder that does not pass the check.
func TestDeployWithoutTerraform(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dir := filepath.Join(t.TempDir(), "aws")
	if code, out := deployCmd(nil, "aws", "init", "--out", dir); code != 0 || !strings.Contains(out, "is not accepted") {
		t.Fatalf("init = %d\n%s", code, out)
	}
	code, out := deployCmd(nil, "aws", "plan", "--out", dir)
	igluDir := filepath.Join(dir, "iglu_server")
	if code != 0 || !strings.Contains(out, "terraform -chdir="+igluDir+" init -input=false") ||
		!strings.Contains(out, "-var=iglu_server_dns_name=http://iglu-server.invalid") {
		t.Errorf("plan without terraform = %d\n%s", code, out)
	}
	code, out = deployCmd(nil, "aws", "apply", "--out", dir)
	if code != 1 || !strings.Contains(out, "accept_limited_use_license") || !strings.Contains(out, "vpc_id is empty") {
		t.Errorf("apply of an unfinished folder = %d, want 1 listing the problems:\n%s", code, out)
	}
	if code, out := deployCmd(nil, "aws", "check", "--out", dir); code != 1 || !strings.Contains(out, "iglu_server/terraform.tfvars:") {
		t.Errorf("check = %d\n%s", code, out)
	}
	if code, _ := deployCmd(nil, "aws", "frobnicate"); code != 2 {
		t.Errorf("unknown command = %d, want 2", code)
	}
	if code, out := deployCmd(nil, "aws", "init", "--target", "redshift", "--out", dir); code != 2 || !strings.Contains(out, "redshift") {
		t.Errorf("init --target redshift = %d\n%s", code, out)
	}
}
