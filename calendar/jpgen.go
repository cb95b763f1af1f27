//go:build ignore

// jpgen converts the Cabinet Office's list of national holidays
// (https://www8.cao.go.jp/chosei/shukujitsu/syukujitsu.csv, Shift_JIS,
// "YYYY/M/D,名称") into jp.csv, the file this package embeds: ISO dates, the
// Japanese name and an English one. The source calls both kinds of extra
// day off "休日"; they are told apart by the law's own definitions
// (国民の祝日に関する法律 第3条): a 休日 that follows an unbroken run of
// holidays containing a Sunday is 振替休日 (§3-2), any other is 国民の休日
// (§3-3, a day between two holidays). Run it after the Cabinet Office
// publishes the next year (each February):
//
//	curl -sO https://www8.cao.go.jp/chosei/shukujitsu/syukujitsu.csv
//	iconv -f cp932 -t utf-8 syukujitsu.csv | go run ./calendar/jpgen.go -fetched YYYY-MM-DD > calendar/jp.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// english names every name the source uses.
var english = map[string]string{
	"元日":           "New Year's Day",
	"成人の日":         "Coming of Age Day",
	"建国記念の日":       "National Foundation Day",
	"天皇誕生日":        "The Emperor's Birthday",
	"春分の日":         "Vernal Equinox Day",
	"昭和の日":         "Showa Day",
	"憲法記念日":        "Constitution Memorial Day",
	"みどりの日":        "Greenery Day",
	"こどもの日":        "Children's Day",
	"海の日":          "Marine Day",
	"山の日":          "Mountain Day",
	"敬老の日":         "Respect for the Aged Day",
	"秋分の日":         "Autumnal Equinox Day",
	"体育の日":         "Health and Sports Day",
	"体育の日（スポーツの日）": "Sports Day",
	"スポーツの日":       "Sports Day",
	"文化の日":         "Culture Day",
	"勤労感謝の日":       "Labour Thanksgiving Day",
	"振替休日":         "Substitute Holiday",
	"国民の休日":        "Citizens' Holiday",
	"結婚の儀":         "Imperial Wedding",
	"大喪の礼":         "State Funeral of Emperor Showa",
	"即位礼正殿の儀":      "Enthronement Ceremony",
	"天皇の即位の日":      "Enthronement Day",
	"即位礼正殿の儀の行われる日": "Enthronement Ceremony Day",
}

// special names the two days the source lists as 休日（祝日扱い）: the days
// the 2018 and 2019 special laws made holidays.
var special = map[string]string{
	"2019-05-01": "天皇の即位の日",
	"2019-10-22": "即位礼正殿の儀の行われる日",
}

func main() {
	fetched := flag.String("fetched", "", "the date syukujitsu.csv was downloaded (YYYY-MM-DD)")
	flag.Parse()
	if _, err := time.Parse("2006-01-02", *fetched); err != nil {
		fail("-fetched: want the download date as YYYY-MM-DD")
	}
	names := map[string]string{}
	sc := bufio.NewScanner(os.Stdin)
	for line := 0; sc.Scan(); line++ {
		text := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == 0 || text == "" {
			continue // the header
		}
		d, name, ok := strings.Cut(text, ",")
		t, err := time.Parse("2006/1/2", d)
		if !ok || err != nil {
			fail("line %d: want YYYY/M/D,名称, got %q", line+1, text)
		}
		names[t.Format("2006-01-02")] = strings.TrimSpace(name)
	}
	if err := sc.Err(); err != nil {
		fail("read: %v", err)
	}
	dates := make([]string, 0, len(names))
	for d := range names {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "# Japanese national holidays, from the Cabinet Office's syukujitsu.csv\n")
	fmt.Fprintf(w, "# (https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html, 公共データ利用規約 PDL1.0),\n")
	fmt.Fprintf(w, "# downloaded %s and converted by jpgen.go. Covers %s to the end of %s.\n", *fetched, dates[0], dates[len(dates)-1][:4])
	fmt.Fprintf(w, "date,ja,en\n")
	for _, d := range dates {
		ja := names[d]
		switch {
		case special[d] != "":
			ja = special[d]
		case ja == "休日":
			ja = "国民の休日"
			if substitute(d, names) {
				ja = "振替休日"
			}
		}
		en, ok := english[ja]
		if !ok {
			fail("%s: no English name for %q; add it to jpgen.go", d, ja)
		}
		fmt.Fprintf(w, "%s,%s,%s\n", d, ja, en)
	}
	if err := w.Flush(); err != nil {
		fail("write: %v", err)
	}
}

// substitute reports whether the 休日 on d follows an unbroken run of
// holidays that contains a Sunday.
func substitute(d string, names map[string]string) bool {
	t, _ := time.Parse("2006-01-02", d)
	for t = t.AddDate(0, 0, -1); names[t.Format("2006-01-02")] != ""; t = t.AddDate(0, 0, -1) {
		if t.Weekday() == time.Sunday {
			return true
		}
	}
	return false
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "jpgen: "+format+"\n", args...)
	os.Exit(1)
}
