package marks

import (
	"go/scanner"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho"
)

// TestNoMarksOutsideTheTable reads every source of the module and fails on
// an emoji written outside this package: in a Go string or rune literal
// (comments may show one), or anywhere in a template, script or style
// sheet. A surface that wants a mark takes it from here, so a state looks
// the same on the board, in Slack, in the CLI and in the digest.
func TestNoMarksOutsideTheTable(t *testing.T) {
	root := ".."
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "docs", "node_modules":
				return filepath.SkipDir
			}
			if rel == "marks" {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.HasSuffix(name, "_test.go") {
			return nil // tests compare with the marks they expect
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch filepath.Ext(name) {
		case ".go":
			checked++
			for _, lit := range literals(src) {
				if e := Emoji(lit.text); len(e) > 0 {
					t.Errorf("%s:%d: %v written outside package marks: take it from marks", rel, lit.line, e)
				}
			}
		case ".html", ".tmpl", ".js", ".css":
			checked++
			for i, line := range strings.Split(string(src), "\n") {
				if e := Emoji(line); len(e) > 0 {
					t.Errorf("%s:%d: %v written outside package marks: show it with {{mark \"name\"}}", rel, i+1, e)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("read only %d sources: is the walk rooted at the module?", checked)
	}
}

type literal struct {
	text string
	line int
}

// literals are a Go source's string and rune literals.
func literals(src []byte) []literal {
	fset := token.NewFileSet()
	f := fset.AddFile("", fset.Base(), len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0)
	var out []literal
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			return out
		}
		if tok == token.STRING || tok == token.CHAR {
			out = append(out, literal{lit, fset.Position(pos).Line})
		}
	}
}

func TestLiteralsSkipComments(t *testing.T) {
	got := literals([]byte("package p\n// 🔧 a comment\nvar x = \"🚨 y\" + `✅`\n"))
	if len(got) != 2 || got[0].text != `"🚨 y"` || got[1].line != 3 {
		t.Fatalf("literals = %+v", got)
	}
}

func TestEmoji(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"✅ ok → next ▾", []string{"✅"}},
		{"🧑‍🔧 on it", []string{"🧑‍🔧"}},
		{"⚠️ misses; ⏭ skipped", []string{"⚠️", "⏭"}},
		{"plain 日本語", nil},
	} {
		if got := Emoji(c.text); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("Emoji(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	if got := NotInTable("✅ 🐢 ⚡ 🧑‍🔧 🔕"); strings.Join(got, ",") != "⚡,🔕" {
		t.Errorf("NotInTable = %q", got)
	}
}

func TestWidth(t *testing.T) {
	for s, want := range map[string]int{
		"✅": 2, "🐢": 2, "⏭": 1, "➖": 2, "⛱": 2, "🧑‍🔧": 2, "⚠️": 2, "⚠": 1,
		"ab": 2, "上流待ち": 8, "⏳ 上流待ち": 11, "→": 1,
	} {
		if got := Width(s); got != want {
			t.Errorf("Width(%q) = %d, want %d", s, got, want)
		}
	}
	if got := Pad("⏭", 2); got != "⏭ " {
		t.Errorf("Pad(⏭) = %q", got)
	}
	if got := Pad("", 2); got != "  " {
		t.Errorf("Pad(\"\") = %q", got)
	}
}

// TestEveryStateHasItsMark: every state a listing can show has its own
// word, every notice kind a mark from the table, and the digest's order
// ranks every state's emoji.
func TestEveryStateHasItsMark(t *testing.T) {
	listed := append([]sekisho.State{sekisho.StateMissed, sekisho.StateScheduled, sekisho.StateNoGate,
		sekisho.StateBeforeHistory, sekisho.StateHoliday}, sekisho.States...)
	for _, s := range listed {
		m := Of(s, false)
		if m.Emoji == unknown || m.Ja == "" || m.En == "" {
			t.Errorf("state %s has no mark: %+v", s, m)
		}
		if Rank(m.Emoji) == len(Order) {
			t.Errorf("state %s's %s is not in Order", s, m.Emoji)
		}
	}
	if Rank(Late.Emoji) == len(Order) {
		t.Error("Late is not in Order")
	}
	known := map[string]bool{}
	for _, m := range All() {
		known[m.Emoji] = true
	}
	for _, k := range sekisho.NoticeKinds {
		if !known[Notice(k).Emoji] {
			t.Errorf("notice %s: %s not in All", k, Notice(k).Emoji)
		}
	}
	if Of("bogus", false).Emoji != unknown || Job("bogus").Emoji != unknown || Day("bogus").Emoji != unknown {
		t.Error("an unknown state should show ❔")
	}
	if Of(sekisho.StateRunning, true) != Late || Of(sekisho.StateSucceeded, true) == Late {
		t.Error("late replaces an open state's mark only")
	}
}

func TestLegendFoldsSharedEmoji(t *testing.T) {
	got := Legend([]Mark{Day("met"), Day("failed"), Day("timed_out"), Day("late"), Day("missed")}, "ja")
	want := []Entry{{"✅", "期限内", 0}, {"🚨", "失敗・タイムアウト・実行なし", 1}, {"🐢", "遅延", 3}}
	if len(got) != len(want) {
		t.Fatalf("Legend = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if en := Legend([]Mark{Day("failed"), Day("missed")}, "en"); en[0].Words != "failed / missed" {
		t.Errorf("en legend %+v", en)
	}
	if Banner(true).Line("en") != "✅ All data flows are normal" || Banner(false).Emoji != Of(sekisho.StateFailed, false).Emoji {
		t.Error("banner")
	}
}
