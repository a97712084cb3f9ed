package deploy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// tfvar is one line of a rendered tfvars file.
type tfvar struct {
	comment string // written above the line; may hold several lines
	name    string
	value   cty.Value
}

// mergeTFVars renders vars as a tfvars file, keeping the value of every variable the
// existing file (old, possibly nil) sets, except those named in explicit (set by a flag
// on this run). Variables the old file sets that are not in vars are kept when keep
// says they are still declared, and reported in dropped otherwise.
func mergeTFVars(vars []tfvar, old []byte, oldName string, explicit map[string]bool, keep func(string) bool) (out []byte, dropped []string, err error) {
	var b strings.Builder
	for i, v := range vars {
		if v.comment != "" {
			if i > 0 {
				b.WriteByte('\n')
			}
			for _, l := range strings.Split(v.comment, "\n") {
				b.WriteString("# " + l + "\n")
			}
		}
		b.WriteString(v.name + " = " + hclValue(v.value) + "\n")
	}
	f, diags := hclwrite.ParseConfig([]byte(b.String()), "rendered.tfvars", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, nil, fmt.Errorf("rendering tfvars: %s", diags.Error())
	}
	if old != nil {
		of, diags := hclwrite.ParseConfig(old, oldName, hcl.InitialPos)
		if diags.HasErrors() {
			return nil, nil, fmt.Errorf("%s: %s; fix or remove the file and run init again", oldName, diags.Error())
		}
		attrs := of.Body().Attributes()
		for _, name := range orderedAttributes(old, oldName) {
			a := attrs[name]
			if explicit[name] {
				continue
			}
			if f.Body().GetAttribute(name) != nil {
				f.Body().SetAttributeRaw(name, a.Expr().BuildTokens(nil))
				continue
			}
			if keep(name) {
				f.Body().AppendNewline()
				f.Body().SetAttributeRaw(name, a.Expr().BuildTokens(nil))
				continue
			}
			dropped = append(dropped, name)
		}
	}
	return hclwrite.Format(f.Bytes()), dropped, nil
}

// orderedAttributes lists the attribute names of a tfvars file in file order.
func orderedAttributes(src []byte, name string) []string {
	f, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil
	}
	body := f.Body.(*hclsyntax.Body)
	names := make([]string, 0, len(body.Attributes))
	for n := range body.Attributes {
		names = append(names, n)
	}
	// Sort by position in the file.
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && body.Attributes[names[j]].SrcRange.Start.Byte < body.Attributes[names[j-1]].SrcRange.Start.Byte; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

// readTFVars returns the literal values of a tfvars file (nil map when it does not
// exist).
func readTFVars(path string) (map[string]cty.Value, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s", diags.Error())
	}
	vals := map[string]cty.Value{}
	for name, a := range f.Body.(*hclsyntax.Body).Attributes {
		if v, d := a.Expr.Value(nil); !d.HasErrors() {
			vals[name] = v
		}
	}
	return vals, nil
}

func stringVar(vals map[string]cty.Value, name string) string {
	v, ok := vals[name]
	if !ok || v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// newAPIKey returns a random UUIDv4 (crypto/rand), the form Iglu Server wants.
func newAPIKey() (string, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("generating the Iglu API key: %w", err)
	}
	return u.String(), nil
}

// newPassword returns 32 random letters and digits: accepted by RDS (which refuses
// '/', '@', '"' and spaces) and by every shell without quoting.
func newPassword() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generating a password: %w", err)
	}
	for i, c := range buf {
		buf[i] = alphabet[int(c)%len(alphabet)] // 256 % 62 bias is irrelevant at 190 bits
	}
	return string(buf), nil
}

// newSuffix returns 8 random hex digits, to make a bucket name globally unique.
func newSuffix() (string, error) {
	buf := make([]byte, 4)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", buf), nil
}

func strList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vs := make([]cty.Value, len(ss))
	for i, s := range ss {
		vs[i] = cty.StringVal(s)
	}
	return cty.ListVal(vs)
}
