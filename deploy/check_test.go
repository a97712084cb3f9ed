package deploy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyGolden copies a golden folder to a temporary one and adds the secrets files, so
// that it is a complete deploy folder.
func copyGolden(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	for p, data := range readTree(t, filepath.Join("testdata", "golden", name)) {
		if err := writeFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	secrets := map[string]string{
		StackIglu:     "iglu_db_password = \"Zx8wQ2mN4bV6cR1tY3uI5oP7aS9dF0gH\"\niglu_super_api_key = \"1b4e28ba-2fa1-4d2b-883f-0016d3cca427\"\n",
		StackPipeline: "iglu_super_api_key = \"1b4e28ba-2fa1-4d2b-883f-0016d3cca427\"\nextra_iglu_resolvers = []\n",
	}
	for stack, s := range secrets {
		if _, err := os.Stat(filepath.Join(dir, stack)); err == nil {
			if err := writeFile(filepath.Join(dir, stack, secretsName), []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func lineOf(t *testing.T, path, substr string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, substr) {
			return i + 1
		}
	}
	t.Fatalf("%q not in %s", substr, path)
	return 0
}

// TestCheckCatchesMistakes injects one mistake at a time into a clean golden folder
// and expects exactly one problem, at the right file and line, saying what is wrong.
func TestCheckCatchesMistakes(t *testing.T) {
	type edit struct{ file, old, new string }
	cases := []struct {
		name  string
		edits []edit
		file  string // of the expected problem
		at    string // text of the expected problem's line, after the edit ("" for line 0)
		want  string // in the message
		fix   string // in the fix
	}{
		{"unknown argument", []edit{{"pipeline/main.tf", "  good_stream_name   = module.raw_stream.name", "  good_stream_name   = module.raw_stream.name\n  good_stream        = module.raw_stream.name"}},
			"pipeline/main.tf", "good_stream        =", `snowplow-devops/collector-kinesis-ec2/aws 0.9.1 has no variable "good_stream"`, "did you mean good_stream_name?"},
		{"missing required argument", []edit{{"pipeline/main.tf", "  good_stream_name   = module.raw_stream.name\n", ""}},
			"pipeline/main.tf", `module "collector_kinesis"`, `required argument "good_stream_name"`, "add good_stream_name"},
		{"undeclared variable", []edit{{"pipeline/main.tf", "var.ec2_enrich_max_size", "var.ec2_enrich_maxsize"}},
			"pipeline/main.tf", "var.ec2_enrich_maxsize", "undeclared input variable var.ec2_enrich_maxsize", "did you mean var.ec2_enrich_max_size?"},
		{"non-existent module output", []edit{{"pipeline/main.tf", "bad_stream_name    = module.bad_1_stream.name", "bad_stream_name    = module.bad_1_stream.nam"}},
			"pipeline/main.tf", "module.bad_1_stream.nam", `snowplow-devops/kinesis-stream/aws 0.3.0 has no output "nam"`, "use one of its outputs: arn, id, name"},
		{"non-existent output through a splat", []edit{{"pipeline/main.tf", "module.s3_pipeline_bucket.*.id", "module.s3_pipeline_bucket.*.name"}},
			"pipeline/main.tf", "module.s3_pipeline_bucket.*.name", `has no output "name"`, "arn, id"},
		{"wrong tfvars type (number)", []edit{{"pipeline/terraform.tfvars", "kinesis_shard_count             = 1", `kinesis_shard_count = "four"`}},
			"pipeline/terraform.tfvars", "kinesis_shard_count =", "kinesis_shard_count: a number is required", "number"},
		{"wrong tfvars type (list)", []edit{{"iglu_server/terraform.tfvars", `public_subnet_ids = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]`, `public_subnet_ids = "subnet-0a1b2c3d"`}},
			"iglu_server/terraform.tfvars", "public_subnet_ids", "public_subnet_ids: list of string required", "list(string)"},
		{"wrong tfvars type (object attribute)", []edit{{"pipeline/terraform.tfvars", "  enabled         = false\n", ""}},
			"pipeline/terraform.tfvars", "ssl_information", `attribute "enabled" is required`, "object"},
		{"undeclared tfvars key", []edit{{"pipeline/terraform.tfvars", "kinesis_shard_count             = 1", "kinesis_shards = 2\nkinesis_shard_count = 1"}},
			"pipeline/terraform.tfvars", "kinesis_shards", `value for undeclared variable "kinesis_shards"`, "did you mean kinesis_shard_count?"},
		{"sample secret", []edit{{"iglu_server/" + secretsName, "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", "00000000-0000-0000-0000-000000000000"}, {"pipeline/" + secretsName, "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", "00000000-0000-0000-0000-000000000000"}},
			"", "", "sample value from the upstream examples", "fresh UUIDv4"},
		{"sample network value", []edit{{"pipeline/terraform.tfvars", `ssh_ip_allowlist = ["203.0.113.7/32"]`, `ssh_ip_allowlist = ["999.999.999.999/32"]`}},
			"pipeline/terraform.tfvars", "ssh_ip_allowlist", "sample value", "your own IP"},
		{"keys differ between the stacks", []edit{{"pipeline/" + secretsName, "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", "9f0c1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"}},
			"pipeline/" + secretsName, "iglu_super_api_key", "differs from the iglu_server stack's", "copy the key"},
		{"key not a UUID", []edit{{"iglu_server/" + secretsName, "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", "hunter2"}, {"pipeline/" + secretsName, "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", "hunter2"}},
			"", "", "not a UUIDv4", "generate one"},
		{"secret in the committed tfvars", []edit{{"iglu_server/terraform.tfvars", `iglu_db_name     = "iglu"`, "iglu_db_name = \"iglu\"\niglu_db_password = \"Zx8wQ2mN4bV6cR1tY3uI5oP7aS9dF0gH\""}},
			"iglu_server/terraform.tfvars", "iglu_db_password", "sensitive but its value is in terraform.tfvars", "secrets.auto.tfvars"},
		{"unknown module version", []edit{{"pipeline/main.tf", `version = "0.6.1"`, `version = "0.6.2"`}},
			"pipeline/main.tf", `version = "0.6.2"`, "0.6.2 is not in the embedded module manifest", "use version 0.6.1"},
		{"undefined local", []edit{{"pipeline/main.tf", "custom_iglu_resolvers = local.custom_iglu_resolvers", "custom_iglu_resolvers = local.iglu_resolvers"}},
			"pipeline/main.tf", "local.iglu_resolvers", "undefined local value local.iglu_resolvers", "did you mean local.custom_iglu_resolvers?"},
		{"undeclared resource", []edit{{"pipeline/main.tf", "ssh_key_name     = aws_key_pair.pipeline.key_name\n  ssh_ip_allowlist = var.ssh_ip_allowlist\n\n  iam_permissions_boundary = var.iam_permissions_boundary\n\n  telemetry_enabled = var.telemetry_enabled\n  user_provided_id  = var.user_provided_id\n\n  tags = var.tags\n\n  cloudwatch_logs_enabled        = var.cloudwatch_logs_enabled\n  cloudwatch_logs_retention_days = var.cloudwatch_logs_retention_days\n}\n\n# 3.", "ssh_key_name     = aws_key_pair.pipe.key_name\n  ssh_ip_allowlist = var.ssh_ip_allowlist\n\n  iam_permissions_boundary = var.iam_permissions_boundary\n\n  telemetry_enabled = var.telemetry_enabled\n  user_provided_id  = var.user_provided_id\n\n  tags = var.tags\n\n  cloudwatch_logs_enabled        = var.cloudwatch_logs_enabled\n  cloudwatch_logs_retention_days = var.cloudwatch_logs_retention_days\n}\n\n# 3."}},
			"pipeline/main.tf", "aws_key_pair.pipe.key_name", "undeclared resource aws_key_pair.pipe", ""},
		{"wrong constant argument type", []edit{{"pipeline/target_amazon_s3.tf", `purpose = "ENRICHED_EVENTS"`, `purpose = ["ENRICHED_EVENTS"]`}},
			"pipeline/target_amazon_s3.tf", `purpose = ["ENRICHED_EVENTS"]`, `argument "purpose": string required`, "type string"},
		{"syntax error", []edit{{"pipeline/outputs.tf", `output "collector_dns_name" {`, `output "collector_dns_name" {{`}},
			"pipeline/outputs.tf", `output "collector_dns_name" {{`, "", ""},
		{"licence not accepted", []edit{{"pipeline/terraform.tfvars", "accept_limited_use_license = true", "accept_limited_use_license = false"}},
			"pipeline/terraform.tfvars", "accept_limited_use_license", "Please accept the terms", "--accept-license"},
		{"empty required value", []edit{{"pipeline/terraform.tfvars", `vpc_id            = "vpc-0a1b2c3d"`, `vpc_id            = ""`}},
			"pipeline/terraform.tfvars", "vpc_id", "vpc_id is empty", "--vpc-id"},
		{"enrichment file missing", []edit{{"pipeline/enrichments/yauaa_enrichment_config.json", "", "\x00delete"}},
			"pipeline/main.tf", "yauaa_enrichment_config.json", "enrichments/yauaa_enrichment_config.json does not exist", "init again"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyGolden(t, "defaults")
			for _, e := range c.edits {
				p := filepath.Join(dir, e.file)
				if e.new == "\x00delete" {
					if err := os.Remove(p); err != nil {
						t.Fatal(err)
					}
					continue
				}
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), e.old) {
					t.Fatalf("%q not in %s", e.old, e.file)
				}
				if err := os.WriteFile(p, []byte(strings.Replace(string(b), e.old, e.new, 1)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ps, err := Check(dir)
			if err != nil {
				t.Fatal(err)
			}
			matching := 0
			for _, p := range ps {
				if strings.Contains(p.Message, c.want) && strings.Contains(p.Fix, c.fix) {
					matching++
					if c.file != "" && p.File != c.file {
						t.Errorf("problem in %s, want %s: %s", p.File, c.file, p)
					}
					if c.at != "" {
						if want := lineOf(t, filepath.Join(dir, c.file), c.at); p.Line != want {
							t.Errorf("problem at line %d, want %d: %s", p.Line, want, p)
						}
					}
				}
			}
			if matching == 0 || (len(ps) != matching && len(c.edits) == 1) {
				t.Errorf("Check found %v, want only a problem with %q (fix %q)", ps, c.want, c.fix)
			}
		})
	}
}

// TestCheckLintsSchemas expects a schema the Iglu Server would refuse to be reported
// before apply starts.
func TestCheckLintsSchemas(t *testing.T) {
	dir := copyGolden(t, "postgres-snowflake-streaming")
	secret := filepath.Join(dir, StackPipeline, secretsName)
	b, _ := os.ReadFile(secret)
	extra := "postgres_db_password = \"Zx8wQ2mN4bV6cR1tY3uI5oP7aS9dF0gH\"\nsnowflake_streaming_loader_private_key = \"-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----\\n\"\n"
	if err := writeFile(secret, append(b, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	if ps, err := Check(dir); err != nil || len(ps) != 0 {
		t.Fatalf("Check of the golden folder: %v %v", ps, err)
	}
	schema := filepath.Join(dir, StackIglu, "schemas", "com.acme", "checkout", "jsonschema", "1-0-1")
	b, _ = os.ReadFile(schema)
	if err := os.WriteFile(schema, []byte(strings.Replace(string(b), `"version": "1-0-1"`, `"version": "1-0-2"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) == 0 || ps[0].File != "iglu_server/schemas/com.acme/checkout/jsonschema/1-0-1" || !strings.Contains(ps[0].Message, "schema lint ERROR") {
		t.Errorf("Check with a schema whose self does not match its path: %v", ps)
	}
}

// TestCheckUpstreamSamples runs the checker over a folder with the quick start's
// sample values, as a user who copied them would have.
func TestCheckUpstreamSamples(t *testing.T) {
	dir := copyGolden(t, "defaults")
	tfvars := filepath.Join(dir, StackIglu, "terraform.tfvars")
	b, _ := os.ReadFile(tfvars)
	s := strings.NewReplacer(`vpc_id            = "vpc-0a1b2c3d"`, `vpc_id = "vpc-00000000"`).Replace(string(b))
	if err := os.WriteFile(tfvars, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	sec := filepath.Join(dir, StackIglu, secretsName)
	if err := writeFile(sec, []byte("iglu_db_password = \"<PASSWORD>\"\niglu_super_api_key = \"1b4e28ba-2fa1-4d2b-883f-0016d3cca427\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ps, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{`vpc_id: "vpc-00000000" is a sample value`, `iglu_db_password: "<PASSWORD>" is a sample value`, "mode 0644 lets other users read the secrets"} {
		if !strings.Contains(all, want) {
			t.Errorf("Check did not report %q; got:\n%s", want, all)
		}
	}
	for _, p := range ps {
		if strings.Contains(p.String(), "<PASSWORD>") && p.File != "iglu_server/"+secretsName {
			t.Errorf("problem in %s, want the secrets file", p.File)
		}
	}
}

// TestApplyAsksFirst: without --auto-approve, apply shows each stack's plan and applies
// it only on "yes"; the answers are read in turn.
func TestApplyAsksFirst(t *testing.T) {
	dir := copyGolden(t, "defaults")
	log := filepath.Join(t.TempDir(), "calls")
	bin := filepath.Join(t.TempDir(), "terraform")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\ncase \"$*\" in *\"output -json\"*) echo '{}' ;; esac\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, answer := range []string{"no\n", "y\n", ""} {
		os.Remove(log)
		var out strings.Builder
		err := Apply(context.Background(), RunOptions{Dir: dir, Stdout: &out, Stdin: strings.NewReader(answer),
			Terraform: Terraform{Bin: bin, Stdout: &out, Stderr: &out}})
		if err == nil || !strings.Contains(err.Error(), "not confirmed") || !strings.Contains(out.String(), "Apply this plan of iglu_server? Only 'yes' is accepted") {
			t.Errorf("apply answered %q: %v\n%s", answer, err, out.String())
		}
		b, _ := os.ReadFile(log)
		if strings.Contains(string(b), "apply") || !strings.Contains(string(b), "plan -input=false -out=tfplan") {
			t.Errorf("answered %q, terraform ran:\n%s", answer, b)
		}
	}
	// yes to the Iglu stack: it is applied, then its missing output stops the run.
	os.Remove(log)
	var out strings.Builder
	err := Apply(context.Background(), RunOptions{Dir: dir, Stdout: &out, Stdin: strings.NewReader("yes\nno\n"),
		Terraform: Terraform{Bin: bin, Stdout: &out, Stderr: &out}})
	b, _ := os.ReadFile(log)
	if err == nil || !strings.Contains(err.Error(), "no iglu_server_dns_name output") || !strings.Contains(string(b), "apply -input=false tfplan") {
		t.Errorf("apply answered yes: %v\n%s", err, b)
	}
}

// TestSummaryFollowsTFVars: the bill before apply follows the sizes in terraform.tfvars.
func TestSummaryFollowsTFVars(t *testing.T) {
	dir := copyGolden(t, "defaults")
	tfvars := filepath.Join(dir, StackPipeline, "terraform.tfvars")
	b, _ := os.ReadFile(tfvars)
	s := strings.NewReplacer(
		`ec2_enrich_instance_type    = "t3a.small"`, `ec2_enrich_instance_type = "c5.large"`,
		`ec2_enrich_min_size         = 1`, `ec2_enrich_min_size = 3`,
		`ec2_collector_instance_type = "t3a.micro"`, `ec2_collector_instance_type = "x9.huge"`,
		`kinesis_shard_count             = 1`, `kinesis_shard_count = 4`,
		`s3_raw_enabled      = false`, `s3_raw_enabled = true`,
	).Replace(string(b))
	if err := os.WriteFile(tfvars, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	man, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	summary(&out, dir, man)
	for _, want := range []string{
		"3 × enrich EC2 c5.large", "~$ 200/month", // 3 × (0.085 × 730 + 0.8 + 3.65)
		"1 × collector EC2 x9.huge", "(price not known here)",
		"4 × Kinesis stream, 4 provisioned shard(s)", "~$ 175/month",
		"3 × S3 loader EC2 t3a.micro",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
