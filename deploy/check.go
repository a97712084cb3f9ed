package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/snowplow-mini/snowplow-mini/deploy/tfcheck"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/iglu/igluclient"
)

// sampleValues are the placeholders and sample secrets of Snowplow's quick-start
// tfvars: deploying with them is a mistake (or, for the secrets, a hole).
var sampleValues = map[string]string{
	"00000000-0000-0000-0000-000000000000": "the quick start's sample key: use a fresh UUIDv4 (init generates one)",
	"<PASSWORD>":                           "a placeholder: set a real password",
	"Hell0W0rld!2":                         "the quick start's sample password: set a new one",
	"999.999.999.999/32":                   "a placeholder: put your own IP address/32",
	"888.888.888.888/32":                   "a placeholder: put your own IP address/32",
	"vpc-00000000":                         "a placeholder: put your VPC id",
	"subnet-00000000":                      "a placeholder: put your subnet ids",
	"subnet-00000001":                      "a placeholder: put your subnet ids",
	"http://<CHANGE-TO-MY-IGLU-DNS-NAME>":  "a placeholder: deploy aws apply fills in the Iglu Server's address",
	"snowplow-terraform-sample-bucket-1":   "the quick start's sample bucket name: bucket names are global, choose your own",
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQA0jSi9//bRsHW4M6czodTs6smCXsxZ0gijzth0aBmycE= snowplow@Snowplows-MacBook-Pro.local": "the quick start's sample SSH key: use your own public key (init --ssh-public-key-file)",
	"<ACCOUNT>":   "a placeholder: set your Snowflake account",
	"<USER>":      "a placeholder: set your Snowflake user",
	"<DATABASE>":  "a placeholder: set your Snowflake database",
	"<SCHEMA>":    "a placeholder: set your Snowflake schema",
	"<WAREHOUSE>": "a placeholder: set your Snowflake warehouse",
}

// nonEmpty lists, per stack, the values that have a type-correct default of "" or []
// in the rendered tfvars but must be filled in before a deploy; a condition variable
// (e.g. postgres_db_enabled) limits a rule to an enabled target.
var nonEmpty = []struct {
	stack, name, when, fix string
}{
	{"*", "aws_region", "", "set the AWS region, e.g. eu-west-1"},
	{"*", "prefix", "", "set a short prefix for resource names, e.g. sp"},
	{StackIglu, "vpc_id", "", "put your VPC id (init --vpc-id)"},
	{StackPipeline, "vpc_id", "", "put your VPC id (init --vpc-id)"},
	{StackIglu, "public_subnet_ids", "", "put at least one public subnet id (init --subnet-ids a,b)"},
	{StackPipeline, "public_subnet_ids", "", "put at least one public subnet id (init --subnet-ids a,b)"},
	{StackIglu, "ssh_public_key", "", "put an SSH public key (init --ssh-public-key-file ~/.ssh/id_ed25519.pub)"},
	{StackPipeline, "ssh_public_key", "", "put an SSH public key (init --ssh-public-key-file ~/.ssh/id_ed25519.pub)"},
	{StackIglu, "iglu_db_password", "", "set a password (init generates one when the line is absent)"},
	{StackPipeline, "s3_bucket_name", "", "set a globally unique bucket name"},
	{StackHybrid, "s3_bucket_name", "", "set a globally unique bucket name"},
	{StackPipeline, "postgres_db_name", "postgres_db_enabled", "set the database name"},
	{StackPipeline, "postgres_db_username", "postgres_db_enabled", "set the database user"},
	{StackPipeline, "postgres_db_password", "postgres_db_enabled", "set a password (init generates one when the line is absent)"},
	{StackPipeline, "snowflake_streaming_account_url", "snowflake_streaming_enabled", "set the Snowflake account URL (https://<account>.snowflakecomputing.com)"},
	{StackPipeline, "snowflake_streaming_loader_user", "snowflake_streaming_enabled", "set the Snowflake loader user"},
	{StackPipeline, "snowflake_streaming_loader_private_key", "snowflake_streaming_enabled", "set the loader user's private key (init --snowflake-private-key-file key.p8)"},
	{StackPipeline, "snowflake_streaming_database", "snowflake_streaming_enabled", "set the Snowflake database"},
	{StackPipeline, "snowflake_streaming_schema", "snowflake_streaming_enabled", "set the Snowflake schema"},
}

// Check checks the deploy folder offline: each stack with tfcheck against the embedded
// module manifest, then the rules of this deployment (values to fill in, the shared
// Iglu key, secrets file modes, the enrichment files). Problems name file and line,
// relative to dir.
func Check(dir string) ([]tfcheck.Problem, error) {
	man, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	mods, err := tfcheck.Embedded()
	if err != nil {
		return nil, err
	}
	var all []tfcheck.Problem
	keys := map[string]valueAt{}
	for _, stack := range man.Stacks {
		sdir := filepath.Join(dir, stack)
		opts := tfcheck.Options{Manifest: mods, Forbidden: sampleValues}
		if stack == StackPipeline {
			opts.Later = laterVariables
		}
		ps, err := tfcheck.CheckDir(sdir, opts)
		if err != nil {
			return nil, err
		}
		vals := stackValues(sdir)
		ps = append(ps, valueRules(stack, vals)...)
		if k, ok := vals["iglu_super_api_key"]; ok {
			keys[stack] = k
		}
		ps = append(ps, secretsMode(sdir)...)
		if stack == StackPipeline {
			ps = append(ps, checkEnrichmentFiles(sdir)...)
		}
		if stack == StackIglu {
			lps, err := lintSchemas(filepath.Join(sdir, "schemas"))
			if err != nil {
				return nil, err
			}
			ps = append(ps, lps...)
		}
		for i := range ps {
			ps[i].File = filepath.ToSlash(filepath.Join(stack, ps[i].File))
			if strings.HasPrefix(ps[i].Message, licenseVariable.name+":") {
				ps[i].Fix = "read https://docs.snowplow.io/limited-use-license-1.0/ and, if you accept it, set " + licenseVariable.name + " = true here (or run init with --accept-license)"
			}
		}
		all = append(all, ps...)
	}
	ik, ok1 := keys[StackIglu]
	pk, ok2 := keys[StackPipeline]
	if ok1 && ok2 && ik.value.AsString() != pk.value.AsString() {
		all = append(all, tfcheck.Problem{File: StackPipeline + "/" + pk.file, Line: pk.line,
			Message: "iglu_super_api_key differs from the iglu_server stack's: the pipeline could not read schemas from the Iglu Server",
			Fix:     "copy the key from " + StackIglu + "/" + ik.file})
	}
	return all, nil
}

type valueAt struct {
	value cty.Value
	file  string
	line  int
}

// stackValues reads the literal values of terraform.tfvars and *.auto.tfvars.
func stackValues(dir string) map[string]valueAt {
	vals := map[string]valueAt{}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.auto.tfvars"))
	sort.Strings(paths)
	paths = append([]string{filepath.Join(dir, "terraform.tfvars")}, paths...)
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		f, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
		if diags.HasErrors() {
			continue // reported by tfcheck
		}
		for name, a := range f.Body.(*hclsyntax.Body).Attributes {
			if v, d := a.Expr.Value(nil); !d.HasErrors() {
				vals[name] = valueAt{v, filepath.Base(p), a.SrcRange.Start.Line}
			}
		}
	}
	return vals
}

func isEmpty(v cty.Value) bool {
	if v.IsNull() || !v.IsKnown() {
		return true
	}
	switch {
	case v.Type() == cty.String:
		return strings.TrimSpace(v.AsString()) == ""
	case v.CanIterateElements():
		return v.LengthInt() == 0
	}
	return false
}

func valueRules(stack string, vals map[string]valueAt) []tfcheck.Problem {
	var ps []tfcheck.Problem
	for _, r := range nonEmpty {
		if r.stack != "*" && r.stack != stack {
			continue
		}
		var cond valueAt
		if r.when != "" {
			c, ok := vals[r.when]
			if !ok || c.value.Type() != cty.Bool || c.value.IsNull() || c.value.False() {
				continue
			}
			cond = c
		}
		v, ok := vals[r.name]
		if !ok {
			if r.when != "" { // its default "" would reach the module
				ps = append(ps, tfcheck.Problem{File: cond.file, Line: cond.line, Message: r.when + " is true but " + r.name + " is not set", Fix: r.fix})
			}
			continue // a variable without a default is tfcheck's report
		}
		if isEmpty(v.value) {
			ps = append(ps, tfcheck.Problem{File: v.file, Line: v.line, Message: r.name + " is empty", Fix: r.fix})
		}
	}
	if v, ok := vals["iglu_super_api_key"]; ok && v.value.Type() == cty.String && !v.value.IsNull() {
		if u, err := uuid.Parse(v.value.AsString()); err != nil || u.Version() != 4 {
			ps = append(ps, tfcheck.Problem{File: v.file, Line: v.line, Message: "iglu_super_api_key is not a UUIDv4", Fix: "delete the line and run init again to generate one"})
		}
	}
	return ps
}

// secretsMode reports secrets files that others than their owner can read.
func secretsMode(dir string) []tfcheck.Problem {
	st, err := os.Stat(filepath.Join(dir, secretsName))
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return []tfcheck.Problem{{File: secretsName, Message: fmt.Sprintf("mode %04o lets other users read the secrets", st.Mode().Perm()), Fix: "chmod 600 " + filepath.Join(dir, secretsName)}}
}

// lintSchemas lints the schemas apply will push, as the Iglu Server will: a schema with
// an ERROR-level finding would stop the push half-way through a deploy.
func lintSchemas(dir string) ([]tfcheck.Problem, error) {
	if !hasFiles(dir) {
		return nil, nil
	}
	rep, err := igluclient.LintDir(dir)
	if err != nil {
		return nil, err
	}
	var ps []tfcheck.Problem
	for _, f := range rep.Files {
		rel, err := filepath.Rel(filepath.Dir(dir), f.Path)
		if err != nil {
			rel = f.Path
		}
		for _, m := range f.Messages {
			if m.Level != iglu.LintError {
				continue
			}
			ps = append(ps, tfcheck.Problem{File: filepath.ToSlash(rel), Message: fmt.Sprintf("schema lint %s at %s: %s", m.Level, m.Pointer, m.Message),
				Fix: "fix the schema in your local schema folder and run init again"})
		}
	}
	return ps, nil
}

var enrichmentRef = regexp.MustCompile(`enrichments/([A-Za-z0-9_.-]+\.json)`)

// checkEnrichmentFiles checks pipeline/enrichments/*.json against the enrich module:
// each must be an enrichment the module has a variable for, and be passed to it; each
// file main.tf passes must exist.
func checkEnrichmentFiles(dir string) []tfcheck.Problem {
	var ps []tfcheck.Problem
	mainTF, _ := os.ReadFile(filepath.Join(dir, "main.tf"))
	referenced := map[string]int{}
	for i, line := range bytes.Split(mainTF, []byte("\n")) {
		for _, m := range enrichmentRef.FindAllSubmatch(line, -1) {
			referenced[string(m[1])] = i + 1
		}
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "enrichments", "*.json"))
	sort.Strings(paths)
	present := map[string]bool{}
	for _, p := range paths {
		base := filepath.Base(p)
		present[base] = true
		rel := "enrichments/" + base
		if _, err := readEnrichment(p); err != nil {
			msg := strings.TrimPrefix(err.Error(), p+": ")
			ps = append(ps, tfcheck.Problem{File: rel, Message: msg})
			continue
		}
		if _, ok := referenced[base]; !ok {
			ps = append(ps, tfcheck.Problem{File: rel, Message: "not passed to module enrich_kinesis, so enrich would not run it", Fix: "run deploy aws init again"})
		}
	}
	for _, base := range sortedKeys(referenced) {
		if !present[base] {
			ps = append(ps, tfcheck.Problem{File: "main.tf", Line: referenced[base], Message: "enrichments/" + base + " does not exist", Fix: "restore it or run deploy aws init again"})
		}
	}
	return ps
}
