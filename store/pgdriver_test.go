package store

import "testing"

func TestRebind(t *testing.T) {
	cases := []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT * FROM runs WHERE pipeline = ? AND logical_date >= ?`, `SELECT * FROM runs WHERE pipeline = $1 AND logical_date >= $2`},
		{`SELECT ?1, ?2, ?1`, `SELECT $1, $2, $1`},
		{`SELECT '?' , ?`, `SELECT '?' , $1`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`SELECT E'\'?', ?`, `SELECT E'\'?', $1`},
		{`SELECT "odd?name" FROM t WHERE a = ?`, `SELECT "odd?name" FROM t WHERE a = $1`},
		{"SELECT 1 -- why?\nWHERE a = ?", "SELECT 1 -- why?\nWHERE a = $1"},
		{`SELECT /* a /* nested? */ ? */ ?`, `SELECT /* a /* nested? */ ? */ $1`},
		{`DO $$ BEGIN PERFORM '?'; END $$; SELECT ?`, `DO $$ BEGIN PERFORM '?'; END $$; SELECT $1`},
		{`SELECT $fn$ ? $fn$, ?`, `SELECT $fn$ ? $fn$, $1`},
		{`SELECT $1, a$b FROM t WHERE c = ?`, `SELECT $1, a$b FROM t WHERE c = $1`},
		{`SELECT 'unterminated ?`, `SELECT 'unterminated ?`},
	}
	for _, c := range cases {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://sekisho:s3cret@db:5432/sekisho?sslmode=require": "postgres://sekisho:xxxxx@db:5432/sekisho?sslmode=require",
		"postgresql://u@h/d?password=s3cret":                        "postgresql://u@h/d?password=xxxxx",
		"/var/lib/sekisho/sekisho.db":                               "/var/lib/sekisho/sekisho.db",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
