package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite the golden deploy folders under testdata/golden")

func ptr(s string) *string { return &s }

func writeTestKey(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "id_test.pub")
	if err := os.WriteFile(p, []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeployTestKeyNotARealOne deploy@test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// goldenCases are the representative local setups of the golden files.
func goldenCases(t *testing.T) map[string]InitOptions {
	key := writeTestKey(t)
	base := func() InitOptions {
		return InitOptions{
			Version: "test", Prefix: ptr("acme"), Region: ptr("eu-west-1"), VPCID: ptr("vpc-0a1b2c3d"),
			SubnetIDs: []string{"subnet-0a1b2c3d", "subnet-4e5f6a7b"}, SSHPublicKeyFile: ptr(key),
			SSHIPAllowlist: []string{"203.0.113.7/32"}, BucketName: ptr("acme-snowplow-golden"), AcceptLicense: true,
		}
	}
	defaults := base()

	all := base()
	all.Local.EnrichmentsDir = "testdata/enrichments-all"

	pgsf := base()
	pgsf.Targets = Targets{Postgres: true, SnowflakeStreaming: true}
	pgsf.NoTelemetry = true
	pgsf.Local.ResolverFile = "testdata/resolver.json"
	pgsf.Local.SchemasDir = "testdata/schemas"
	pgsf.Local.DisableEnrichments = []string{"referer_parser"}
	pemKey := filepath.Join(t.TempDir(), "sf.p8")
	if err := os.WriteFile(pemKey, []byte("-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAtest\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pgsf.SnowflakePrivateKeyFile = ptr(pemKey)
	pgsf.Snowflake = SnowflakeSettings{AccountURL: ptr("https://acme-test.snowflakecomputing.com"), User: ptr("SNOWPLOW_LOADER"), Database: ptr("SNOWPLOW"), Schema: ptr("ATOMIC")}

	hybrid := base()
	hybrid.Hybrid = true
	return map[string]InitOptions{"defaults": defaults, "all-enrichments": all, "postgres-snowflake-streaming": pgsf, "hybrid": hybrid}
}

// readTree returns every file under dir, by slash path, except the secrets files.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == secretsName {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for name, o := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			o.Out = filepath.Join(t.TempDir(), "deploy")
			if _, err := Init(o); err != nil {
				t.Fatalf("Init: %v", err)
			}
			golden := filepath.Join("testdata", "golden", name)
			got := readTree(t, o.Out)
			if *update {
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				for p, data := range got {
					if err := writeFile(filepath.Join(golden, p), []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			want := readTree(t, golden)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rendered folder differs from %s (-want +got; go test ./deploy -run TestGolden -update rewrites it):\n%s", golden, diff)
			}
			ps, err := Check(o.Out)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				t.Errorf("Check(%s): %s", name, p)
			}
			t.Run("terraform fmt", func(t *testing.T) {
				bin, err := exec.LookPath("terraform")
				if err != nil {
					t.Skip("no terraform on PATH: terraform fmt -check of the golden files skipped (hclwrite.Format already made them canonical)")
				}
				out, err := exec.Command(bin, "fmt", "-check", "-recursive", golden).CombinedOutput()
				if err != nil {
					t.Errorf("terraform fmt -check -recursive %s: %v\n%s", golden, err, out)
				}
			})
		})
	}
}

func TestSecrets(t *testing.T) {
	o := goldenCases(t)["postgres-snowflake-streaming"]
	o.Out = t.TempDir()
	if _, err := Init(o); err != nil {
		t.Fatal(err)
	}
	igluSec := filepath.Join(o.Out, StackIglu, secretsName)
	pipeSec := filepath.Join(o.Out, StackPipeline, secretsName)
	for _, p := range []string{igluSec, pipeSec} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", p, st.Mode().Perm())
		}
	}
	iv, _ := readTFVars(igluSec)
	pv, _ := readTFVars(pipeSec)
	key := stringVar(iv, "iglu_super_api_key")
	if u, err := uuid.Parse(key); err != nil || u.Version() != 4 {
		t.Errorf("iglu_super_api_key = %q, want a UUIDv4", key)
	}
	if got := stringVar(pv, "iglu_super_api_key"); got != key {
		t.Errorf("pipeline iglu_super_api_key differs from the iglu_server stack's")
	}
	for _, name := range []string{"iglu_db_password"} {
		if pw := stringVar(iv, name); len(pw) != 32 {
			t.Errorf("%s has %d characters, want 32", name, len(pw))
		}
	}
	if pw := stringVar(pv, "postgres_db_password"); len(pw) != 32 || pw == stringVar(iv, "iglu_db_password") {
		t.Errorf("postgres_db_password: want 32 fresh characters")
	}
	if !strings.Contains(stringVar(pv, "snowflake_streaming_loader_private_key"), "BEGIN PRIVATE KEY") {
		t.Errorf("the Snowflake private key is not in the pipeline's secrets")
	}
	if stringVar(pv, "extra_iglu_resolvers") != "" || pv["extra_iglu_resolvers"].LengthInt() != 1 {
		t.Errorf("extra_iglu_resolvers = %#v, want the one non-local repository of testdata/resolver.json", pv["extra_iglu_resolvers"])
	}
	// Secrets appear nowhere but in the secrets files.
	secrets := []string{key, stringVar(iv, "iglu_db_password"), stringVar(pv, "postgres_db_password"), "resolver-test-key"}
	for p, data := range readTree(t, o.Out) {
		for _, s := range secrets {
			if strings.Contains(data, s) {
				t.Errorf("%s holds a secret", p)
			}
		}
	}

	// A second key, for a fresh folder, differs: keys are random.
	o2 := o
	o2.Out = t.TempDir()
	if _, err := Init(o2); err != nil {
		t.Fatal(err)
	}
	v2, _ := readTFVars(filepath.Join(o2.Out, StackIglu, secretsName))
	if stringVar(v2, "iglu_super_api_key") == key {
		t.Error("two folders got the same Iglu API key")
	}
}

// TestReinitKeepsEdits edits tfvars values and a secret, re-runs init, and expects the
// edits kept, flags given on the re-run to win, and no secret rotated.
func TestReinitKeepsEdits(t *testing.T) {
	o := goldenCases(t)["postgres-snowflake-streaming"]
	o.Out = t.TempDir()
	if _, err := Init(o); err != nil {
		t.Fatal(err)
	}
	tfvars := filepath.Join(o.Out, StackPipeline, "terraform.tfvars")
	src, _ := os.ReadFile(tfvars)
	src = bytes.Replace(src, []byte(`ec2_enrich_instance_type    = "t3a.small"`), []byte(`ec2_enrich_instance_type = "c5.large"`), 1)
	src = bytes.Replace(src, []byte(`kinesis_shard_count             = 1`), []byte(`kinesis_shard_count = 4`), 1)
	src = bytes.Replace(src, []byte(`user_provided_id  = ""`), []byte(`user_provided_id = "team-a"`), 1)
	src = append(src, []byte("\nno_longer_a_variable = 1\n")...)
	if err := os.WriteFile(tfvars, src, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := readTFVars(filepath.Join(o.Out, StackPipeline, secretsName))
	beforeIglu, _ := readTFVars(filepath.Join(o.Out, StackIglu, secretsName))

	o.Region = ptr("us-east-1") // given again: wins
	o.AcceptLicense = false     // not given: the file's true stays
	rep, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	vals, _ := readTFVars(tfvars)
	checks := map[string]string{"ec2_enrich_instance_type": "c5.large", "aws_region": "us-east-1", "user_provided_id": "team-a"}
	for name, want := range checks {
		if got := stringVar(vals, name); got != want {
			t.Errorf("after re-init %s = %q, want %q", name, got, want)
		}
	}
	if n, _ := vals["kinesis_shard_count"].AsBigFloat().Int64(); n != 4 {
		t.Errorf("kinesis_shard_count = %d, want the edited 4", n)
	}
	if !vals["accept_limited_use_license"].True() {
		t.Error("re-init without --accept-license reset the accepted licence")
	}
	if _, ok := vals["no_longer_a_variable"]; ok || !strings.Contains(strings.Join(rep.Dropped, " "), "no_longer_a_variable") {
		t.Errorf("an undeclared value was kept (or not reported): dropped %v", rep.Dropped)
	}
	after, _ := readTFVars(filepath.Join(o.Out, StackPipeline, secretsName))
	afterIglu, _ := readTFVars(filepath.Join(o.Out, StackIglu, secretsName))
	for _, name := range []string{"iglu_super_api_key", "postgres_db_password"} {
		if stringVar(before, name) != stringVar(after, name) {
			t.Errorf("re-init rotated %s", name)
		}
	}
	if stringVar(beforeIglu, "iglu_db_password") != stringVar(afterIglu, "iglu_db_password") {
		t.Error("re-init rotated iglu_db_password")
	}
	ps, err := Check(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Errorf("Check after re-init: %s", p)
	}

	// Dropping a target removes its file.
	o.Targets = Targets{}
	if _, err := Init(o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(o.Out, StackPipeline, "target_postgres.tf")); err == nil {
		t.Error("target_postgres.tf is still there after re-init without --target postgres")
	}
	if ps, _ := Check(o.Out); len(ps) != 0 {
		t.Errorf("Check after dropping the targets: %v", ps)
	}
}

func TestLicenseNeverAccepted(t *testing.T) {
	o := goldenCases(t)["defaults"]
	o.AcceptLicense = false
	o.Out = t.TempDir()
	if _, err := Init(o); err != nil {
		t.Fatal(err)
	}
	for _, stack := range []string{StackIglu, StackPipeline} {
		vals, _ := readTFVars(filepath.Join(o.Out, stack, "terraform.tfvars"))
		if vals["accept_limited_use_license"].True() {
			t.Errorf("%s: init accepted the licence without --accept-license", stack)
		}
	}
	ps, _ := Check(o.Out)
	n := 0
	for _, p := range ps {
		if strings.HasPrefix(p.Message, "accept_limited_use_license:") && strings.Contains(p.Fix, "limited-use-license") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("Check reports the unaccepted licence %d times, want once per stack: %v", n, ps)
	}
}

// TestEnrichmentsValidate validates every enrichment file a rendering can carry (the
// test set and the generated "switch off" files) against its Iglu Central schema, as
// enrich does before it starts.
func TestEnrichmentsValidate(t *testing.T) {
	central := sharedtest.Path(t, "iglu-central", "Iglu Central schemas validate the enrichment configurations")
	rc := iglu.DefaultConfig()
	rc.Repositories = nil
	rc.SchemaDirs = []string{central}
	res, err := iglu.NewResolver(rc, iglu.ResolverDeps{})
	if err != nil {
		t.Fatal(err)
	}
	var files [][2]string
	paths, _ := filepath.Glob("testdata/enrichments-all/*.json")
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		files = append(files, [2]string{p, string(b)})
	}
	for name, j := range moduleDefaultOff {
		files = append(files, [2]string{"generated " + name, j})
	}
	if len(files) != len(enrichVariables)+len(moduleDefaultOff) {
		t.Fatalf("%d files, want one per enrich variable (%d) plus the generated ones", len(files), len(enrichVariables))
	}
	for _, f := range files {
		sd, err := iglu.ParseSelfDescribing([]byte(f[1]))
		if err != nil {
			t.Errorf("%s: %v", f[0], err)
			continue
		}
		var doc map[string]any
		_ = json.Unmarshal([]byte(f[1]), &doc)
		if _, err := res.Validate(context.Background(), sd.Schema, doc["data"]); err != nil {
			t.Errorf("%s does not validate against %s: %v", f[0], sd.Schema, err)
		}
	}
}

func TestEnrichmentRefusals(t *testing.T) {
	cases := map[string]struct{ json, want string }{
		"cross_navigation.json": {`{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/cross_navigation_config/jsonschema/1-0-0","data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"cross_navigation_config","enabled":true}}`,
			"has no variable in snowplow-devops/enrich-kinesis-ec2/aws 0.6.1"},
		"referer_builtin.json": {`{"schema":"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-0","data":{"vendor":"com.snowplowanalytics.snowplow","name":"referer_parser","enabled":true,"parameters":{"internalDomains":[],"database":"referers.json","uri":"builtin:"}}}`,
			"snowplow-mini's bundled copy"},
		"ip_local.json": {`{"schema":"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-0","data":{"vendor":"com.snowplowanalytics.snowplow","name":"ip_lookups","enabled":true,"parameters":{"geo":{"database":"GeoLite2-City.mmdb","uri":"./assets"}}}}`,
			"parameters.geo.uri \"./assets\" is a local file"},
		"not_json.json": {`{`, "not a self-describing enrichment configuration"},
	}
	for file, c := range cases {
		t.Run(file, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, file), []byte(c.json), 0o644); err != nil {
				t.Fatal(err)
			}
			o := goldenCases(t)["defaults"]
			o.Out = t.TempDir()
			o.Local.EnrichmentsDir = dir
			_, err := Init(o)
			if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Init with %s: error %v, want one naming the file and %q", file, err, c.want)
			}
		})
	}

	// Switched off, it is left out instead.
	dir := t.TempDir()
	off := strings.Replace(cases["cross_navigation.json"].json, `"enabled":true`, `"enabled":false`, 1)
	if err := os.WriteFile(filepath.Join(dir, "cross_navigation.json"), []byte(off), 0o644); err != nil {
		t.Fatal(err)
	}
	od := goldenCases(t)["defaults"]
	od.Out = t.TempDir()
	od.Local.EnrichmentsDir = dir
	if _, err := Init(od); err != nil {
		t.Errorf("Init with a switched-off cross_navigation_config: %v", err)
	}

	// The same refusal from check, for a file put into the rendered folder by hand.
	o := goldenCases(t)["defaults"]
	o.Out = t.TempDir()
	if _, err := Init(o); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(o.Out, StackPipeline, "enrichments", "cross_navigation_config.json")
	if err := os.WriteFile(bad, []byte(cases["cross_navigation.json"].json), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := Check(o.Out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].File != "pipeline/enrichments/cross_navigation_config.json" || !strings.Contains(ps[0].Message, "has no variable") {
		t.Errorf("Check with an unmappable enrichment file: %v", ps)
	}
}
