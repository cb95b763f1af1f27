package condition

import "fmt"

// maxDepth bounds nesting so a hostile condition cannot exhaust the stack.
const maxDepth = 100

// Error is a condition that does not parse or names an unknown upstream.
type Error struct {
	Col   int    // 1-based byte column in the condition
	Ident string // the unknown upstream, if that is the problem
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tAnd
	tOr
	tNot
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string
	col  int
}

func (t token) describe() string {
	if t.kind == tEOF {
		return "end of condition"
	}
	return fmt.Sprintf("%q", t.text)
}

type parser struct {
	src        string
	toks       []token
	pos        int
	known      map[string]bool
	candidates []string
	used       []string
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			p.toks = append(p.toks, token{tLParen, "(", i + 1})
			i++
		case c == ')':
			p.toks = append(p.toks, token{tRParen, ")", i + 1})
			i++
		case c == '!':
			p.toks = append(p.toks, token{tNot, "!", i + 1})
			i++
		case c == '&' || c == '|':
			if i+1 >= len(s) || s[i+1] != c {
				return &Error{Col: i + 1, Msg: fmt.Sprintf("syntax error at column %d: single %q; write %q", i+1, string(c), string(c)+string(c))}
			}
			k := tAnd
			if c == '|' {
				k = tOr
			}
			p.toks = append(p.toks, token{k, s[i : i+2], i + 1})
			i += 2
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			p.toks = append(p.toks, token{tIdent, s[i:j], i + 1})
			i = j
		default:
			r := []rune(s[i:])[0]
			return &Error{Col: i + 1, Msg: fmt.Sprintf("syntax error at column %d: unexpected character %q", i+1, r)}
		}
	}
	p.toks = append(p.toks, token{tEOF, "", len(s) + 1})
	return nil
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) errAt(t token, what string) *Error {
	return &Error{Col: t.col, Msg: fmt.Sprintf("syntax error at column %d: %s", t.col, what)}
}

func (p *parser) or(depth int) (node, error) {
	x, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	xs := []node{x}
	for p.peek().kind == tOr {
		p.next()
		y, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return orNode{xs}, nil
}

func (p *parser) and(depth int) (node, error) {
	x, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	xs := []node{x}
	for p.peek().kind == tAnd {
		p.next()
		y, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return andNode{xs}, nil
}

func (p *parser) unary(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.errAt(p.peek(), fmt.Sprintf("nested more than %d deep", maxDepth))
	}
	t := p.next()
	switch t.kind {
	case tNot:
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case tLParen:
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt(c, fmt.Sprintf("expected \")\" to close the \"(\" at column %d, got %s", t.col, c.describe()))
		}
		return x, nil
	case tIdent:
		if !p.known[t.text] {
			msg := fmt.Sprintf("unknown upstream %q at column %d", t.text, t.col)
			if s := Suggest(t.text, p.candidates); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			return nil, &Error{Col: t.col, Ident: t.text, Msg: msg}
		}
		p.used = append(p.used, t.text)
		return ident(t.text), nil
	}
	return nil, p.errAt(t, fmt.Sprintf("expected an upstream name, \"!\" or \"(\", got %s", t.describe()))
}
