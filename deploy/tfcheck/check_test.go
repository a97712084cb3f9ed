package tfcheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCheckDirScopes checks what needs no declaration (for-expression symbols,
// count.index, path.module, data sources that exist) and what does.
func TestCheckDirScopes(t *testing.T) {
	m, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	dir := writeRoot(t, map[string]string{
		"main.tf": `
variable "names" {
  type = list(string)
}
variable "mode" {
  type    = string
  default = "PROVISIONED"
  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.mode)
    error_message = "mode must be PROVISIONED or ON_DEMAND"
  }
}
data "aws_region" "current" {}
locals {
  upper = [for n in var.names : upper(n)]
  keyed = { for k, v in var.names : v => k }
}
module "streams" {
  source   = "snowplow-devops/kinesis-stream/aws"
  version  = "0.3.0"
  count    = length(var.names)
  name     = "${var.names[count.index]}-${data.aws_region.current.name}"
  stream_mode_details = var.mode
  tags = { dir = path.module, missing = data.aws_region.other.name }
}
output "first" {
  value = module.streams[0].arn
}
output "all" {
  value = module.streams[*].name
}
output "bad" {
  value = module.streams[*].nope
}
`,
		"terraform.tfvars": "names = [\"a\", \"b\"]\nmode = \"SOMETIMES\"\n",
	})
	ps, err := CheckDir(dir, Options{Manifest: m})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		`main.tf:24: reference to undeclared data source data.aws_region.other`,
		`main.tf:33: module.streams.nope: snowplow-devops/kinesis-stream/aws 0.3.0 has no output "nope"`,
		`terraform.tfvars:2: mode: mode must be PROVISIONED or ON_DEMAND`,
	}
	if len(got) != len(want) {
		t.Fatalf("CheckDir found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
}
