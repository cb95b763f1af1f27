package slo

import "time"

// Days and instants are handled as integers in the hot loop: a day as days
// since 1970-01-01 (a civil date, no zone), an instant as Unix milliseconds.
// A year of a thousand pipelines is 365,000 rows; time.Parse on each of
// their timestamps would cost more than the whole query.

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01
// (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int) (y, m, d int) {
	t := time.Unix(int64(z)*86400, 0).UTC()
	return t.Year(), int(t.Month()), t.Day()
}

// dateString formats a day number as YYYY-MM-DD.
func dateString(day int) string {
	return time.Unix(int64(day)*86400, 0).UTC().Format(time.DateOnly)
}

// text is what the parsers read: stored values arrive as strings from the
// driver and as bytes from tests.
type text interface{ ~string | ~[]byte }

func digits[T text](b T) (int, bool) {
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseDay reads YYYY-MM-DD.
func parseDay[T text](b T) (int, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

// parseMillis reads a stored time, "2006-01-02T15:04:05.000Z", as Unix
// milliseconds. Anything else RFC 3339 takes the slow path. ok is false for
// NULL or unreadable text, which the report treats as absent.
func parseMillis[T text](b T) (int64, bool) {
	if len(b) == 24 && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[19] == '.' && b[23] == 'Z' {
		day, ok := parseDay(b[:10])
		hh, ok1 := digits(b[11:13])
		mm, ok2 := digits(b[14:16])
		ss, ok3 := digits(b[17:19])
		ms, ok4 := digits(b[20:23])
		if ok && ok1 && ok2 && ok3 && ok4 {
			return ((int64(day)*24+int64(hh))*60+int64(mm))*60000 + int64(ss)*1000 + int64(ms), true
		}
	}
	if len(b) == 0 {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

func msTime(ms int64, loc *time.Location) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).In(loc)
}
