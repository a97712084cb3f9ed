package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
)

// Terraform runs terraform (or OpenTofu's tofu, which takes the same arguments) in the
// stacks of a deploy folder. With no binary it prints the commands instead.
type Terraform struct {
	Bin    string // path of terraform or tofu; empty: print the commands
	Stdout io.Writer
	Stderr io.Writer
	Stdin  io.Reader // for terraform's own prompts (destroy without --auto-approve)
}

// FindTerraform returns the binary to run: the given one, else terraform, else tofu on
// PATH; empty when there is none.
func FindTerraform(given string) (string, error) {
	if given != "" {
		p, err := exec.LookPath(given)
		if err != nil {
			return "", fmt.Errorf("--terraform-bin %s: %w", given, err)
		}
		return p, nil
	}
	for _, name := range []string{"terraform", "tofu"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", nil
}

func (tf Terraform) name() string {
	if tf.Bin == "" {
		return "terraform"
	}
	return filepath.Base(tf.Bin)
}

// run runs one terraform command in dir (with -chdir, so relative paths in the stack
// resolve as terraform expects), or prints it.
func (tf Terraform) run(ctx context.Context, dir string, args ...string) error {
	full := append([]string{"-chdir=" + dir}, args...)
	if tf.Bin == "" {
		fmt.Fprintf(tf.Stdout, "  %s %s\n", tf.name(), strings.Join(full, " "))
		return nil
	}
	fmt.Fprintf(tf.Stdout, "==> %s %s\n", tf.name(), strings.Join(full, " "))
	c := exec.CommandContext(ctx, tf.Bin, full...)
	c.Env = append(os.Environ(), "TF_IN_AUTOMATION=1")
	c.Stdout, c.Stderr, c.Stdin = tf.Stdout, tf.Stderr, tf.Stdin
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", tf.name(), strings.Join(full, " "), err)
	}
	return nil
}

// outputs returns the stack's outputs (terraform output -json), without printing them:
// they may be sensitive.
func (tf Terraform) outputs(ctx context.Context, dir string) (map[string]any, error) {
	c := exec.CommandContext(ctx, tf.Bin, "-chdir="+dir, "output", "-json")
	c.Env = append(os.Environ(), "TF_IN_AUTOMATION=1")
	c.Stderr = tf.Stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("%s -chdir=%s output -json: %w", tf.name(), dir, err)
	}
	var raw map[string]struct {
		Value any `json:"value"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("%s -chdir=%s output -json: %w", tf.name(), dir, err)
	}
	vals := make(map[string]any, len(raw))
	for k, v := range raw {
		vals[k] = v.Value
	}
	return vals, nil
}

// RunOptions configure plan, apply and destroy.
type RunOptions struct {
	Dir         string // the deploy folder
	Terraform   Terraform
	AutoApprove bool      // apply/destroy without asking
	Stdout      io.Writer // progress and the summary
	Stdin       io.Reader // the confirmation answer
	// HealthTimeout bounds the wait for the new Iglu Server (default 15 minutes: the
	// instances boot and pull the image first); HealthInterval is the poll period
	// (default 10 s).
	HealthTimeout  time.Duration
	HealthInterval time.Duration
	HTTPClient     *http.Client
	// Push publishes the schemas to the new Iglu Server (required by apply).
	Push Pusher
	// KinesisEndpoint and S3Endpoint, for a hybrid folder, create the streams and the
	// bucket through the AWS SDK at these endpoints (emulators) instead of running
	// terraform; AWS_ENDPOINT_URL_KINESIS does the same.
	KinesisEndpoint string
	S3Endpoint      string
}

const (
	planFile = "tfplan"
	// placeholderIglu stands in for the Iglu Server's address in a pipeline plan made
	// before the Iglu stack exists (.invalid never resolves).
	placeholderIglu = "http://iglu-server.invalid"
	igluAutoTFVars  = "iglu_server.auto.tfvars"
)

func (o RunOptions) stack(name string) string { return filepath.Join(o.Dir, name) }

// pipelineVars returns the -var arguments the pipeline stack needs when the Iglu
// Server's address has not been written yet.
func (o RunOptions) pipelineVars() []string {
	if _, err := os.Stat(filepath.Join(o.stack(StackPipeline), igluAutoTFVars)); err == nil {
		return nil
	}
	return []string{"-var=iglu_server_dns_name=" + placeholderIglu}
}

// Plan runs terraform init and plan on every stack of the folder.
func Plan(ctx context.Context, o RunOptions) error {
	man, err := readManifest(o.Dir)
	if err != nil {
		return err
	}
	// Without a binary the commands are still worth printing; the problems come first.
	if err := checkBeforeApply(o); err != nil && o.Terraform.Bin != "" {
		return err
	}
	if o.Terraform.Bin == "" {
		fmt.Fprintln(o.Stdout, "No terraform or tofu on PATH (or --terraform-bin). The commands are:")
	}
	for _, stack := range man.Stacks {
		dir := o.stack(stack)
		if err := o.Terraform.run(ctx, dir, "init", "-input=false"); err != nil {
			return err
		}
		args := []string{"plan", "-input=false", "-out=" + planFile}
		if stack == StackPipeline {
			if v := o.pipelineVars(); v != nil {
				fmt.Fprintf(o.Stdout, "The Iglu Server does not exist yet: the pipeline is planned with iglu_server_dns_name = %q.\n", placeholderIglu)
				args = append(args, v...)
			}
		}
		if err := o.Terraform.run(ctx, dir, args...); err != nil {
			return err
		}
	}
	return nil
}

// Apply deploys the folder in the quick start's order: the Iglu stack, a wait until
// the Iglu Server is healthy, the schemas pushed to it, then the pipeline with the Iglu
// Server's address and key. It runs the offline check first and refuses on problems.
func Apply(ctx context.Context, o RunOptions) error {
	man, err := readManifest(o.Dir)
	if err != nil {
		return err
	}
	if man.Hybrid && (o.KinesisEndpoint != "" || os.Getenv("AWS_ENDPOINT_URL_KINESIS") != "") {
		fmt.Fprintln(o.Stdout, "Endpoint override: creating the streams and the bucket with the AWS SDK, without terraform.")
		return CreateHybrid(ctx, HybridOptions{Dir: o.Dir, KinesisEndpoint: o.KinesisEndpoint, S3Endpoint: o.S3Endpoint, Stdout: o.Stdout})
	}
	if err := checkBeforeApply(o); err != nil {
		return err
	}
	if o.Stdin != nil {
		if _, ok := o.Stdin.(*bufio.Reader); !ok {
			o.Stdin = bufio.NewReader(o.Stdin)
		}
	}
	summary(o.Stdout, o.Dir, man)
	if o.Terraform.Bin == "" {
		fmt.Fprintln(o.Stdout, "\nNo terraform or tofu on PATH (or --terraform-bin). Run:")
		printApplyCommands(o, man)
		return nil
	}
	if man.Hybrid {
		return applyStack(ctx, o, o.stack(StackHybrid), nil)
	}
	igluDir := o.stack(StackIglu)
	if err := applyStack(ctx, o, igluDir, nil); err != nil {
		return err
	}
	outs, err := o.Terraform.outputs(ctx, igluDir)
	if err != nil {
		return err
	}
	dns, _ := outs["iglu_server_dns_name"].(string)
	if dns == "" {
		return fmt.Errorf("%s has no iglu_server_dns_name output", igluDir)
	}
	url := igluURL(igluDir, dns)
	auto := fmt.Sprintf("# Written by snowplow-mini deploy aws apply from the iglu_server stack's output.\niglu_server_dns_name = %s\n", q(url))
	if err := writeFile(filepath.Join(o.stack(StackPipeline), igluAutoTFVars), []byte(auto), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "Iglu Server: %s (written to %s/%s)\n", url, StackPipeline, igluAutoTFVars)
	if err := waitHealthy(ctx, o, url); err != nil {
		return err
	}
	schemas := filepath.Join(igluDir, "schemas")
	if hasFiles(schemas) {
		key, err := igluKey(o.Dir)
		if err != nil {
			return err
		}
		if o.Push == nil {
			return errors.New("no schema pusher configured")
		}
		fmt.Fprintf(o.Stdout, "Pushing %s to %s\n", schemas, url)
		if err := o.Push(ctx, PushOptions{Server: url, APIKey: key, Dir: schemas}); err != nil {
			return fmt.Errorf("pushing the schemas: %w", err)
		}
	} else {
		fmt.Fprintln(o.Stdout, "No local schemas to push (init --schemas copies them into iglu_server/schemas).")
	}
	pipeDir := o.stack(StackPipeline)
	if err := applyStack(ctx, o, pipeDir, nil); err != nil {
		return err
	}
	pouts, err := o.Terraform.outputs(ctx, pipeDir)
	if err != nil {
		return err
	}
	if c, ok := pouts["collector_dns_name"].(string); ok {
		fmt.Fprintf(o.Stdout, "\nDone. Point your trackers at http://%s\n", c)
	}
	return nil
}

// applyStack plans a stack, asks (unless AutoApprove or when only printing), and
// applies exactly the plan that was shown.
func applyStack(ctx context.Context, o RunOptions, dir string, vars []string) error {
	if err := o.Terraform.run(ctx, dir, "init", "-input=false"); err != nil {
		return err
	}
	if err := o.Terraform.run(ctx, dir, append([]string{"plan", "-input=false", "-out=" + planFile}, vars...)...); err != nil {
		return err
	}
	if o.Terraform.Bin != "" && !o.AutoApprove && !confirm(o, "Apply this plan of "+filepath.Base(dir)) {
		return errors.New("not confirmed (answer yes, or pass --auto-approve)")
	}
	return o.Terraform.run(ctx, dir, "apply", "-input=false", planFile)
}

func checkBeforeApply(o RunOptions) error {
	ps, err := Check(o.Dir)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	fmt.Fprintf(o.Stdout, "%s has %d problem(s):\n", o.Dir, len(ps))
	for _, p := range ps {
		fmt.Fprintf(o.Stdout, "  %s\n", p)
	}
	return errors.New("fix the problems above first (snowplow-mini deploy aws check lists them)")
}

// summary prints what will be created and what it costs.
func summary(w io.Writer, dir string, man deployManifest) {
	fmt.Fprintf(w, "Deploying %s (%s module set):\n", dir, man.Profile)
	for _, src := range sortedKeys(man.Modules) {
		fmt.Fprintf(w, "  %s %s\n", src, man.Modules[src])
	}
	s := Setup{Hybrid: man.Hybrid}
	for _, t := range man.Targets {
		switch t {
		case "postgres":
			s.Targets.Postgres = true
		case "snowflake-streaming":
			s.Targets.SnowflakeStreaming = true
		}
	}
	fmt.Fprintln(w)
	total := 0.0
	for _, stack := range man.Stacks {
		vals, _ := readTFVars(filepath.Join(dir, stack, "terraform.tfvars"))
		total += writeCost(w, stack, stackCost(stack, s, vals))
	}
	fmt.Fprintf(w, "Roughly $%.0f a month in us-east-1 at the minimum sizes in terraform.tfvars, before data transfer and traffic.\n", total)
	if !man.Hybrid {
		vals, _ := readTFVars(filepath.Join(dir, StackPipeline, "terraform.tfvars"))
		if v, ok := vals["telemetry_enabled"]; ok && v.Type() == cty.Bool && !v.IsNull() && v.False() {
			fmt.Fprintln(w, "Telemetry to Snowplow Analytics Ltd: off.")
		} else {
			fmt.Fprintln(w, "Telemetry to Snowplow Analytics Ltd: on (telemetry_enabled; init --no-telemetry turns it off).")
		}
		fmt.Fprintln(w, "The Snowplow applications run under the Snowplow Limited Use License, which you accepted: testing and evaluation, not production.")
	}
}

func printApplyCommands(o RunOptions, man deployManifest) {
	tf := o.Terraform
	ctx := context.Background()
	if man.Hybrid {
		_ = applyStack(ctx, o, o.stack(StackHybrid), nil)
		return
	}
	igluDir := o.stack(StackIglu)
	_ = applyStack(ctx, o, igluDir, nil)
	fmt.Fprintf(o.Stdout, "  # then, with the Iglu Server's address:\n")
	fmt.Fprintf(o.Stdout, "  echo \"iglu_server_dns_name = \\\"http://$(%s -chdir=%s output -raw iglu_server_dns_name)\\\"\" > %s\n",
		tf.name(), igluDir, filepath.Join(o.stack(StackPipeline), igluAutoTFVars))
	fmt.Fprintf(o.Stdout, "  snowplow-mini deploy aws push-schemas --out %s\n", o.Dir)
	_ = applyStack(ctx, o, o.stack(StackPipeline), nil)
}

// Destroy removes the pipeline, then the Iglu stack (the reverse order of apply), and
// says what is left to remove by hand.
func Destroy(ctx context.Context, o RunOptions) error {
	man, err := readManifest(o.Dir)
	if err != nil {
		return err
	}
	stacks := []string{StackPipeline, StackIglu}
	if man.Hybrid {
		stacks = []string{StackHybrid}
	}
	if o.Terraform.Bin == "" {
		fmt.Fprintln(o.Stdout, "No terraform or tofu on PATH (or --terraform-bin). The commands are:")
	}
	for _, stack := range stacks {
		dir := o.stack(stack)
		args := []string{"destroy", "-input=" + fmt.Sprint(!o.AutoApprove)}
		if o.AutoApprove {
			args = append(args, "-auto-approve")
		}
		if stack == StackPipeline {
			args = append(args, o.pipelineVars()...)
		}
		if err := o.Terraform.run(ctx, dir, "init", "-input=false"); err != nil {
			return err
		}
		if err := o.Terraform.run(ctx, dir, args...); err != nil {
			return err
		}
	}
	fmt.Fprintln(o.Stdout, `
Left for you to remove by hand:
  - the S3 bucket, when it holds data: the s3-bucket module does not force-destroy it
    (aws s3 rm s3://<bucket> --recursive, then run destroy again);
  - the CloudWatch log groups /aws/ec2/<prefix>-*, when they outlive the servers;
  - any final RDS snapshot you enabled, and the local terraform state (*.tfstate),
    which still holds the stacks' secrets.`)
	return nil
}

// igluURL is the Iglu Server's base URL from the load balancer's DNS name: https when
// the stack's load balancer has a certificate.
func igluURL(igluDir, dns string) string {
	if strings.Contains(dns, "://") {
		return strings.TrimRight(dns, "/")
	}
	scheme := "http://"
	vals, _ := readTFVars(filepath.Join(igluDir, "terraform.tfvars"))
	if v, ok := vals["ssl_information"]; ok && v.Type().IsObjectType() && v.Type().HasAttribute("enabled") {
		if e := v.GetAttr("enabled"); e.Type() == cty.Bool && !e.IsNull() && e.True() {
			scheme = "https://"
		}
	}
	return scheme + dns
}

// waitHealthy polls {url}/api/meta/health until it answers 200.
func waitHealthy(ctx context.Context, o RunOptions, url string) error {
	timeout, interval := o.HealthTimeout, o.HealthInterval
	if timeout <= 0 {
		timeout = 15 * time.Minute
	}
	if interval <= 0 {
		interval = 10 * time.Second
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	health := url + "/api/meta/health"
	fmt.Fprintf(o.Stdout, "Waiting for %s ", health)
	last := ""
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Fprintln(o.Stdout, "ok")
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		fmt.Fprint(o.Stdout, ".")
		select {
		case <-ctx.Done():
			fmt.Fprintln(o.Stdout)
			return fmt.Errorf("the Iglu Server at %s was not healthy within %s (last answer: %s); when it is, run deploy aws apply again", url, timeout, last)
		case <-time.After(interval):
		}
	}
}

func confirm(o RunOptions, question string) bool {
	fmt.Fprintf(o.Stdout, "%s? Only 'yes' is accepted: ", question)
	if o.Stdin == nil {
		return false
	}
	line, _ := o.stdin().ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// stdin reads the answers: one buffered reader for the whole run, so that a second
// question reads the line after the first answer.
func (o RunOptions) stdin() *bufio.Reader {
	if r, ok := o.Stdin.(*bufio.Reader); ok {
		return r
	}
	return bufio.NewReader(o.Stdin)
}

func hasFiles(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// igluKey reads the Iglu super API key from the deploy folder's secrets.
func igluKey(dir string) (string, error) {
	for _, stack := range []string{StackIglu, StackPipeline} {
		vals, err := readTFVars(filepath.Join(dir, stack, secretsName))
		if err != nil {
			return "", err
		}
		if k := stringVar(vals, "iglu_super_api_key"); k != "" {
			return k, nil
		}
	}
	return "", fmt.Errorf("no iglu_super_api_key in %s/*/%s: run deploy aws init, or give --iglu-api-key", dir, secretsName)
}
