package calendar

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

// jpCSV is the Cabinet Office's list of national holidays in the form
// jpgen.go writes: "date,ja,en" after a few # comment lines.
//
//go:embed jp.csv
var jpCSV string

type holiday struct{ ja, en string }

// jpHolidays parses jpCSV once. The file is checked by the package's tests
// (every line parses, the dates ascend, every 休日 is named), so a bad line
// here is a build mistake and panics.
var jpHolidays = sync.OnceValue(func() map[string]holiday {
	m := map[string]holiday{}
	for i, line := range strings.Split(jpCSV, "\n") {
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "date,") {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 3 {
			panic("calendar: jp.csv line " + strconv.Itoa(i+1) + ": want date,ja,en")
		}
		if _, err := ParseDate(f[0]); err != nil {
			panic("calendar: jp.csv line " + strconv.Itoa(i+1) + ": " + err.Error())
		}
		m[f[0]] = holiday{ja: f[1], en: f[2]}
	}
	return m
})

// jpDataEnd is the last day of the last year jp.csv lists: the Cabinet
// Office publishes whole years.
var jpDataEnd = sync.OnceValue(func() string {
	last := ""
	for d := range jpHolidays() {
		last = max(last, d)
	}
	return last[:4] + "-12-31"
})
