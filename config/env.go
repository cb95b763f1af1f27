package config

import (
	"fmt"
	"strconv"
	"strings"
)

// expand replaces ${VAR} with its value from lookup and $$ with a literal $.
// Any other $ stays as written, so Go template variables ({{ $x }}) survive.
// Every unset variable is an error, wherever it is used: a typo in a
// variable name should fail validate, not leave a token silently empty.
// Errors name variables, never their values. In a template (quoteValues),
// a value containing "{{" is inserted as a template string literal so a
// secret is data, never template code.
func expand(s string, lookup func(string) (string, bool), quoteValues bool) (out string, used bool, err error) {
	if !strings.Contains(s, "$") {
		return s, false, nil
	}
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", true, fmt.Errorf("unclosed \"${\"; write ${NAME}, or $$ for a literal $")
			}
			name := s[i+2 : i+2+end]
			if !validVarName(name) {
				return "", true, fmt.Errorf("bad variable reference %q; write ${NAME} with letters, digits and _", "${"+name+"}")
			}
			v, ok := lookup(name)
			if !ok {
				missing = append(missing, name)
			}
			if quoteValues && strings.Contains(v, "{{") {
				v = "{{" + strconv.Quote(v) + "}}"
			}
			b.WriteString(v)
			used = true
			i += 3 + end
		default:
			b.WriteByte(c)
			i++
		}
	}
	switch len(missing) {
	case 0:
		return b.String(), used, nil
	case 1:
		return "", true, fmt.Errorf("environment variable %s is not set; export it, or write $$ for a literal $", missing[0])
	}
	return "", true, fmt.Errorf("environment variables %s are not set; export them", strings.Join(missing, ", "))
}

func validVarName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
