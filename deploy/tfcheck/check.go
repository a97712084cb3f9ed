// Package tfcheck checks a Terraform root module without Terraform and without the
// network: every file parses, every var./local./module./resource reference resolves,
// every module argument is a variable of that exact module version (from an embedded
// manifest of the modules' interfaces), every required argument is given, and the
// values in terraform.tfvars and *.auto.tfvars have the declared types and pass the
// variables' validation rules.
//
// It is what `snowplow-mini deploy aws check` runs on the rendered stacks; the deploy
// package is its only user. It reads files and never runs terraform.
package tfcheck

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Problem is one finding, with where it is and what to do about it.
type Problem struct {
	File    string // path of the file, as found under the checked directory
	Line    int    // 1-based; 0 when the problem concerns the whole file
	Message string
	Fix     string // what to do; may be empty
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	if p.Fix != "" {
		b.WriteString(" (")
		b.WriteString(p.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// Options says what to check against.
type Options struct {
	// Manifest holds the interfaces of the modules the root may call. A module call
	// whose source and version are not in it is a problem.
	Manifest Manifest
	// Later names required variables that are deliberately left without a value in the
	// tfvars files because a later step supplies them (for example with -var); the value
	// says which step, for the report.
	Later map[string]string
	// Forbidden are values that must not appear in a tfvars file (sample secrets and
	// placeholders from upstream examples), with why.
	Forbidden map[string]string
}

// metaArguments are the arguments of a module block that are Terraform's, not the
// module's.
var metaArguments = map[string]bool{
	"source": true, "version": true, "count": true, "for_each": true, "providers": true, "depends_on": true,
}

// implicitRoots are reference roots that need no declaration.
var implicitRoots = map[string]bool{
	"path": true, "count": true, "each": true, "self": true, "terraform": true,
}

type variableDecl struct {
	ty          cty.Type
	defaults    *typeexpr.Defaults
	typed       bool // the type constraint parsed
	hasDefault  bool
	sensitive   bool
	rng         hcl.Range
	validations []*hclsyntax.Block
}

type moduleCall struct {
	block *hclsyntax.Block
	mod   *Module // nil when the source/version is not in the manifest
}

type checker struct {
	dir       string
	opts      Options
	problems  []Problem
	variables map[string]*variableDecl
	locals    map[string]bool
	modules   map[string]*moduleCall
	resources map[string]bool // "type.name"
	data      map[string]bool // "type.name"
}

// CheckDir checks the root module in dir (its *.tf files, terraform.tfvars and
// *.auto.tfvars). The returned error is for files that cannot be read; everything
// wrong with their content is a Problem. Problems are sorted by file and line.
func CheckDir(dir string, opts Options) ([]Problem, error) {
	c := &checker{
		dir:       dir,
		opts:      opts,
		variables: map[string]*variableDecl{},
		locals:    map[string]bool{},
		modules:   map[string]*moduleCall{},
		resources: map[string]bool{},
		data:      map[string]bool{},
	}
	tfPaths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, err
	}
	if len(tfPaths) == 0 {
		return nil, fmt.Errorf("no *.tf files in %s", dir)
	}
	sort.Strings(tfPaths)
	var bodies []*hclsyntax.Body
	for _, p := range tfPaths {
		body, err := c.parse(p)
		if err != nil {
			return nil, err
		}
		if body != nil {
			bodies = append(bodies, body)
		}
	}
	for _, b := range bodies {
		c.declare(b)
	}
	for _, b := range bodies {
		c.references(b)
	}
	for _, name := range sortedKeys(c.modules) {
		c.moduleArguments(name, c.modules[name])
	}
	if err := c.tfvars(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(c.problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return c.problems, nil
}

func (c *checker) rel(path string) string {
	if r, err := filepath.Rel(c.dir, path); err == nil {
		return r
	}
	return path
}

func (c *checker) problem(rng hcl.Range, fix, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.rel(rng.Filename), Line: rng.Start.Line, Message: fmt.Sprintf(format, args...), Fix: fix})
}

func (c *checker) diagnostics(diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		rng := hcl.Range{}
		if d.Subject != nil {
			rng = *d.Subject
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		c.problem(rng, "", "%s", msg)
	}
}

// parse reads and parses one file; a syntax error is a problem and gives a nil body.
func (c *checker) parse(path string) (*hclsyntax.Body, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Filename == "" {
				d.Subject.Filename = path
			}
		}
		c.diagnostics(diags)
		return nil, nil
	}
	return f.Body.(*hclsyntax.Body), nil
}

// declare records the variables, locals, modules, resources and data sources of body.
func (c *checker) declare(body *hclsyntax.Body) {
	for _, b := range body.Blocks {
		switch {
		case b.Type == "variable" && len(b.Labels) == 1:
			name := b.Labels[0]
			if prev, ok := c.variables[name]; ok {
				c.problem(b.DefRange(), "remove one of the two", "variable %q is declared twice (also at %s:%d)", name, c.rel(prev.rng.Filename), prev.rng.Start.Line)
				continue
			}
			v := &variableDecl{ty: cty.DynamicPseudoType, typed: true, rng: b.DefRange()}
			if a, ok := b.Body.Attributes["type"]; ok {
				ty, defs, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
				if diags.HasErrors() {
					c.diagnostics(diags)
					v.typed = false
				}
				v.ty, v.defaults = ty, defs
			}
			_, v.hasDefault = b.Body.Attributes["default"]
			if a, ok := b.Body.Attributes["sensitive"]; ok {
				if s, diags := a.Expr.Value(nil); !diags.HasErrors() && s.Type() == cty.Bool && s.IsKnown() && !s.IsNull() {
					v.sensitive = s.True()
				}
			}
			for _, vb := range b.Body.Blocks {
				if vb.Type == "validation" {
					v.validations = append(v.validations, vb)
				}
			}
			c.variables[name] = v
		case b.Type == "locals":
			for name, a := range b.Body.Attributes {
				if c.locals[name] {
					c.problem(a.NameRange, "rename or remove one of them", "local %q is defined twice", name)
				}
				c.locals[name] = true
			}
		case b.Type == "module" && len(b.Labels) == 1:
			name := b.Labels[0]
			if _, ok := c.modules[name]; ok {
				c.problem(b.DefRange(), "rename or remove one of them", "module %q is declared twice", name)
				continue
			}
			c.modules[name] = &moduleCall{block: b, mod: c.lookupModule(name, b)}
		case b.Type == "resource" && len(b.Labels) == 2:
			c.resources[b.Labels[0]+"."+b.Labels[1]] = true
		case b.Type == "data" && len(b.Labels) == 2:
			c.data[b.Labels[0]+"."+b.Labels[1]] = true
		}
	}
}

func literalString(body *hclsyntax.Body, name string) (string, hcl.Range, bool) {
	a, ok := body.Attributes[name]
	if !ok {
		return "", hcl.Range{}, false
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() || !v.IsKnown() {
		return "", a.Expr.Range(), false
	}
	return v.AsString(), a.Expr.Range(), true
}

func (c *checker) lookupModule(name string, b *hclsyntax.Block) *Module {
	source, srng, ok := literalString(b.Body, "source")
	if !ok {
		if srng.Filename == "" {
			srng = b.DefRange()
		}
		c.problem(srng, "write the registry address as a string", "module %q: source must be a literal string", name)
		return nil
	}
	version, vrng, ok := literalString(b.Body, "version")
	if !ok {
		if vrng.Filename == "" {
			vrng = b.DefRange()
		}
		c.problem(vrng, "pin the exact version the manifest knows, e.g. version = \""+c.knownVersions(source)+"\"", "module %q: version must be a literal, exact version", name)
		return nil
	}
	mod, ok := c.opts.Manifest.Lookup(source, version)
	if !ok {
		fix := "use a module version snowplow-mini knows"
		if v := c.knownVersions(source); v != "" {
			fix = "use version " + v
		}
		c.problem(vrng, fix, "module %q: %s %s is not in the embedded module manifest, so its arguments cannot be checked", name, source, version)
		return nil
	}
	return &mod
}

func (c *checker) knownVersions(source string) string {
	var vs []string
	for _, m := range c.opts.Manifest {
		if m.Source == source {
			vs = append(vs, m.Version)
		}
	}
	slices.Sort(vs)
	return strings.Join(vs, " or ")
}

// walk calls f on every expression of body, nested blocks included.
func walk(body *hclsyntax.Body, f func(hclsyntax.Expression)) {
	for _, name := range sortedKeys(body.Attributes) {
		f(body.Attributes[name].Expr)
	}
	for _, b := range body.Blocks {
		walk(b.Body, f)
	}
}

// references checks that every reference in body resolves.
func (c *checker) references(body *hclsyntax.Body) {
	walk(body, func(expr hclsyntax.Expression) {
		bound := map[string]bool{}
		hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
			if fe, ok := n.(*hclsyntax.ForExpr); ok {
				bound[fe.KeyVar] = true
				bound[fe.ValVar] = true
			}
			return nil
		})
		hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
			switch e := n.(type) {
			case *hclsyntax.ScopeTraversalExpr:
				c.traversal(e.Traversal, bound)
			case *hclsyntax.SplatExpr:
				c.splat(e)
			}
			return nil
		})
	})
}

func attrAt(t hcl.Traversal, i int) (string, bool) {
	if i >= len(t) {
		return "", false
	}
	a, ok := t[i].(hcl.TraverseAttr)
	return a.Name, ok
}

func (c *checker) traversal(t hcl.Traversal, bound map[string]bool) {
	root := t.RootName()
	rng := t.SourceRange()
	switch {
	case root == "var":
		name, _ := attrAt(t, 1)
		if _, ok := c.variables[name]; !ok {
			c.problem(rng, "declare it in variables.tf"+c.suggest(name, sortedKeys(c.variables), "var."), "reference to undeclared input variable var.%s", name)
		}
	case root == "local":
		name, _ := attrAt(t, 1)
		if !c.locals[name] {
			c.problem(rng, "define it in a locals block"+c.suggest(name, sortedKeys(c.locals), "local."), "reference to undefined local value local.%s", name)
		}
	case root == "module":
		name, _ := attrAt(t, 1)
		call, ok := c.modules[name]
		if !ok {
			c.problem(rng, "add the module block"+c.suggest(name, sortedKeys(c.modules), "module."), "reference to undeclared module module.%s", name)
			return
		}
		i := 2
		if i < len(t) {
			if _, isIndex := t[i].(hcl.TraverseIndex); isIndex {
				i++
			}
		}
		if out, ok := attrAt(t, i); ok {
			c.output(rng, name, call, out)
		}
	case root == "data":
		typ, _ := attrAt(t, 1)
		name, _ := attrAt(t, 2)
		if !c.data[typ+"."+name] {
			c.problem(rng, "declare the data block or fix the name", "reference to undeclared data source data.%s.%s", typ, name)
		}
	case implicitRoots[root] || bound[root]:
	default:
		name, ok := attrAt(t, 1)
		if ok && !c.resources[root+"."+name] {
			c.problem(rng, "declare the resource or fix the name", "reference to undeclared resource %s.%s", root, name)
		}
	}
}

// splat checks module.M.*.output and module.M[*].output.
func (c *checker) splat(e *hclsyntax.SplatExpr) {
	src, ok := e.Source.(*hclsyntax.ScopeTraversalExpr)
	if !ok || src.Traversal.RootName() != "module" || len(src.Traversal) != 2 {
		return
	}
	rel, ok := e.Each.(*hclsyntax.RelativeTraversalExpr)
	if !ok {
		return
	}
	name, _ := attrAt(src.Traversal, 1)
	call, ok := c.modules[name]
	if !ok {
		return // reported by traversal
	}
	if out, ok := attrAt(rel.Traversal, 0); ok {
		c.output(e.Range(), name, call, out)
	}
}

func (c *checker) output(rng hcl.Range, name string, call *moduleCall, out string) {
	if call.mod == nil || slices.Contains(call.mod.Outputs, out) {
		return
	}
	c.problem(rng, "use one of its outputs: "+strings.Join(call.mod.Outputs, ", "),
		"module.%s.%s: %s %s has no output %q", name, out, call.mod.Source, call.mod.Version, out)
}

// moduleArguments checks the arguments of one module call against the manifest.
func (c *checker) moduleArguments(name string, call *moduleCall) {
	if call.mod == nil {
		return
	}
	mod := call.mod
	body := call.block.Body
	for _, arg := range sortedKeys(body.Attributes) {
		if metaArguments[arg] {
			continue
		}
		a := body.Attributes[arg]
		v, ok := mod.Variables[arg]
		if !ok {
			c.problem(a.NameRange, "remove it"+c.suggest(arg, sortedKeys(mod.Variables), ""),
				"module %q: %s %s has no variable %q", name, mod.Source, mod.Version, arg)
			continue
		}
		c.argumentType(name, arg, a, v)
	}
	for _, vname := range sortedKeys(mod.Variables) {
		if !mod.Variables[vname].Required {
			continue
		}
		if _, ok := body.Attributes[vname]; !ok {
			c.problem(call.block.DefRange(), "add "+vname+" = ... to the module block",
				"module %q: required argument %q of %s %s is missing", name, vname, mod.Source, mod.Version)
		}
	}
}

// argumentType checks what can be known offline of an argument's type: a constant
// value, or a plain var.X whose declared type cannot convert to the module's.
func (c *checker) argumentType(module, arg string, a *hclsyntax.Attribute, v Variable) {
	if v.Type == "" {
		return
	}
	want, ok := parseType(v.Type)
	if !ok || want == cty.DynamicPseudoType {
		return
	}
	if st, isTrav := a.Expr.(*hclsyntax.ScopeTraversalExpr); isTrav && st.Traversal.RootName() == "var" && len(st.Traversal) == 2 {
		name, _ := attrAt(st.Traversal, 1)
		if d, ok := c.variables[name]; ok && d.typed && d.ty != cty.DynamicPseudoType {
			if !d.ty.Equals(want) && convert.GetConversionUnsafe(d.ty, want) == nil {
				c.problem(a.Expr.Range(), "make the variable's type "+v.Type,
					"module %q: argument %q wants %s, but var.%s is %s", module, arg, v.Type, name, typeexpr.TypeString(d.ty))
			}
		}
		return
	}
	if len(a.Expr.Variables()) > 0 {
		return
	}
	val, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return // function calls and the like are Terraform's to evaluate
	}
	if _, err := convert.Convert(val, want); err != nil {
		c.problem(a.Expr.Range(), "give a value of type "+v.Type, "module %q: argument %q: %v", module, arg, err)
	}
}

func parseType(s string) (cty.Type, bool) {
	expr, diags := hclsyntax.ParseExpression([]byte(s), "type", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilType, false
	}
	ty, _, diags := typeexpr.TypeConstraintWithDefaults(expr)
	return ty, !diags.HasErrors()
}

// tfvars checks terraform.tfvars and *.auto.tfvars: declared names, literal values of
// the declared types, validation rules, forbidden sample values, and that every
// required variable gets a value.
func (c *checker) tfvars() error {
	paths, err := filepath.Glob(filepath.Join(c.dir, "*.auto.tfvars"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	if p := filepath.Join(c.dir, "terraform.tfvars"); fileExists(p) {
		paths = append([]string{p}, paths...)
	}
	set := map[string]bool{}
	unreadable := false
	for _, p := range paths {
		body, err := c.parse(p)
		if err != nil {
			return err
		}
		if body == nil {
			unreadable = true
			continue
		}
		for _, b := range body.Blocks {
			c.problem(b.DefRange(), "tfvars files hold name = value lines only", "unexpected block %q in a variables file", b.Type)
		}
		for _, name := range sortedKeys(body.Attributes) {
			a := body.Attributes[name]
			set[name] = true
			c.tfvar(name, a)
		}
	}
	if unreadable {
		return nil // which values are missing is unknown until the file parses
	}
	for _, name := range sortedKeys(c.variables) {
		v := c.variables[name]
		if v.hasDefault || set[name] {
			continue
		}
		if _, ok := c.opts.Later[name]; ok {
			continue
		}
		c.problem(v.rng, "set it in terraform.tfvars", "variable %q has no default and no value in terraform.tfvars or *.auto.tfvars", name)
	}
	return nil
}

func (c *checker) tfvar(name string, a *hclsyntax.Attribute) {
	decl, ok := c.variables[name]
	if !ok {
		c.problem(a.NameRange, "remove it, or declare it in variables.tf"+c.suggest(name, sortedKeys(c.variables), ""),
			"value for undeclared variable %q", name)
		return
	}
	val, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		c.problem(a.Expr.Range(), "write a literal value", "%s: a variables file can hold only literal values", name)
		return
	}
	if decl.typed {
		if decl.defaults != nil {
			val = decl.defaults.Apply(val)
		}
		conv, err := convert.Convert(val, decl.ty)
		if err != nil {
			c.problem(a.Expr.Range(), "give a value of type "+typeexpr.TypeString(decl.ty), "%s: %v", name, err)
			return
		}
		val = conv
	}
	if decl.sensitive && filepath.Base(a.SrcRange.Filename) == "terraform.tfvars" && !val.IsNull() && val.IsKnown() && !(val.Type() == cty.String && val.AsString() == "") {
		c.problem(a.Expr.Range(), "move it to secrets.auto.tfvars (mode 0600, not committed)", "%s is sensitive but its value is in terraform.tfvars, which is meant to be committed", name)
	}
	c.forbidden(name, a, val)
	c.validate(name, a, decl, val)
}

// forbidden reports sample values anywhere inside val.
func (c *checker) forbidden(name string, a *hclsyntax.Attribute, val cty.Value) {
	if len(c.opts.Forbidden) == 0 {
		return
	}
	_ = cty.Walk(val, func(_ cty.Path, v cty.Value) (bool, error) {
		if v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			if why, bad := c.opts.Forbidden[v.AsString()]; bad {
				c.problem(a.Expr.Range(), why, "%s: %q is a sample value from the upstream examples", name, v.AsString())
			}
		}
		return true, nil
	})
}

// validationFunctions are the functions a variable's validation condition may call
// here; a condition calling any other is left to Terraform.
func validationFunctions() map[string]function.Function {
	return map[string]function.Function{
		"can":      tryfunc.CanFunc,
		"try":      tryfunc.TryFunc,
		"regex":    stdlib.RegexFunc,
		"length":   stdlib.LengthFunc,
		"contains": stdlib.ContainsFunc,
		"lower":    stdlib.LowerFunc,
		"upper":    stdlib.UpperFunc,
	}
}

func (c *checker) validate(name string, a *hclsyntax.Attribute, decl *variableDecl, val cty.Value) {
	for _, vb := range decl.validations {
		cond, ok := vb.Body.Attributes["condition"]
		if !ok {
			continue
		}
		ctx := &hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{name: val})},
			Functions: validationFunctions(),
		}
		res, diags := cond.Expr.Value(ctx)
		if diags.HasErrors() || !res.IsKnown() || res.IsNull() || res.Type() != cty.Bool {
			continue
		}
		if res.True() {
			continue
		}
		msg := "the variable's validation rule fails"
		if em, ok := vb.Body.Attributes["error_message"]; ok {
			if m, d := em.Expr.Value(nil); !d.HasErrors() && m.Type() == cty.String && !m.IsNull() {
				msg = m.AsString()
			}
		}
		c.problem(a.Expr.Range(), fmt.Sprintf("see the validation of variable %q at %s:%d", name, c.rel(decl.rng.Filename), decl.rng.Start.Line), "%s: %s", name, msg)
	}
}

// suggest returns ", or did you mean X?" for the known name closest to name.
func (c *checker) suggest(name string, known []string, prefix string) string {
	best, bestD := "", len(name)/2+2
	for _, k := range known {
		if d := editDistance(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + prefix + best + "?"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
