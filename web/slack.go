package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/store"
)

// The endpoints of SPEC §20: Slack's interactions (button clicks) and the
// acknowledgement of an incident through the API.

func init() {
	for lang, words := range ackTexts {
		for k, v := range words {
			texts[lang][k] = v
		}
	}
}

var ackTexts = map[string]map[string]string{
	"ja": {
		"ack":         "対応中 — 復旧見込み %s（@%s）",
		"ack_no_eta":  "対応中 — 復旧見込みは未定（@%s）",
		"unacked":     "担当者の応答待ち",
		"runbook":     "手順書",
		"eta_overdue": "（見込みを過ぎています）",
	},
	"en": {
		"ack":         "Being worked on — expected back by %s (@%s)",
		"ack_no_eta":  "Being worked on — no ETA yet (@%s)",
		"unacked":     "waiting for someone to take it",
		"runbook":     "runbook",
		"eta_overdue": " (past its ETA)",
	},
}

func (s *server) routes20(mux *http.ServeMux) {
	mux.HandleFunc("POST /slack/interactions", s.slackInteractions)
	mux.Handle("POST /api/v1/incidents/{id}/ack", s.write(s.ackIncident))
}

// slackInteractions takes Slack's interaction payloads (interactivity:
// http). Anything not signed with the signing secret within MaxSkew of now
// is 401 and changes nothing. Slack wants an answer within 3 seconds; the
// actions are single store writes, and what they cause in Slack (the thread
// reply, the root's update) goes out through the outbox.
func (s *server) slackInteractions(w http.ResponseWriter, r *http.Request) {
	cfg := s.cfg()
	if cfg == nil || cfg.Slack.Interactivity != config.InteractivityHTTP || s.Slack == nil {
		writeError(w, http.StatusNotFound, "Slack interactivity over HTTP is off: set slack.interactivity: http")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if err := slackact.Verify(r.Header, body, cfg.Slack.SigningSecret.Value(), s.Clock.Now()); err != nil {
		s.Logger.Warn("slack: interaction refused", "error", err.Error())
		writeError(w, http.StatusUnauthorized, "not signed by Slack")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		writeError(w, http.StatusBadRequest, "want a form-encoded payload")
		return
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		writeError(w, http.StatusBadRequest, "bad payload: "+err.Error())
		return
	}
	s.Slack.Handle(r.Context(), cb)
	w.WriteHeader(http.StatusOK)
}

// ackRequest is the body of POST /api/v1/incidents/{id}/ack.
type ackRequest struct {
	By  string `json:"by"`
	ETA string `json:"eta"` // RFC 3339; empty: not said
}

// ackIncident acknowledges an incident as the button does; the audit trail
// says "api", and by is the name the board shows.
func (s *server) ackIncident(w http.ResponseWriter, r *http.Request) {
	var req ackRequest
	if !readJSON(w, r, &req) {
		return
	}
	if _, ok := s.needConfig(w); !ok {
		return
	}
	if req.By == "" {
		writeError(w, http.StatusBadRequest, `say who is on it: {"by":"tanaka","eta":"2026-11-21T10:30:00+09:00"}`)
		return
	}
	var eta time.Time
	if req.ETA != "" {
		var err error
		if eta, err = time.Parse(time.RFC3339, req.ETA); err != nil {
			writeError(w, http.StatusBadRequest, "eta must be an RFC 3339 time, like 2026-11-21T10:30:00+09:00")
			return
		}
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the incident id is a number (GET /api/v1/incidents lists them)")
		return
	}
	inc, err := s.incidentByID(r, id)
	if err != nil {
		if errors.Is(err, sekisho.ErrNotFound) {
			writeError(w, http.StatusNotFound, err.Error())
		} else {
			s.internal(w, "ack", err)
		}
		return
	}
	now := s.Clock.Now()
	t, _ := slackact.TargetOf(inc)
	by := engine.By{Who: engine.ByAPI, Incident: inc.Key}
	by.Notices = []sekisho.Notice{slackact.Reply(store.ActionAck, t, by, "", req.By, eta, time.Time{}, now)}
	if err := slackact.Acknowledge(r.Context(), s.Store, t, by, req.By, eta, now); err != nil {
		s.internal(w, "ack", err)
		return
	}
	if s.Kick != nil {
		s.Kick()
	}
	s.Logger.Info("http: incident acknowledged", "incident", inc.Key, "by", req.By)
	acks, err := s.Store.Acks(r.Context(), inc.Key)
	if err != nil {
		s.internal(w, "ack", err)
		return
	}
	writeJSON(w, http.StatusOK, ackJSONOf(acks, inc.Key))
}

func (s *server) incidentByID(r *http.Request, id int64) (sekisho.Incident, error) {
	all, err := s.Store.Incidents(r.Context(), store.IncidentFilter{})
	if err != nil {
		return sekisho.Incident{}, err
	}
	for _, inc := range all {
		if inc.ID == id {
			return inc, nil
		}
	}
	return sekisho.Incident{}, fmt.Errorf("no incident %d: %w", id, sekisho.ErrNotFound)
}

// ackJSON is an incident's acknowledgement in the API; null fields when
// nobody acknowledged it.
type ackJSON struct {
	AcknowledgedBy   *string `json:"acknowledged_by"`
	AcknowledgedName *string `json:"acknowledged_name"`
	AcknowledgedAt   *string `json:"acknowledged_at"`
	ETA              *string `json:"eta"`
}

func ackJSONOf(acks map[string]store.Ack, key string) ackJSON {
	a, ok := acks[key]
	if !ok {
		return ackJSON{}
	}
	at := a.At.UTC().Format(time.RFC3339)
	j := ackJSON{AcknowledgedBy: &a.By, AcknowledgedName: &a.Name, AcknowledgedAt: &at}
	if !a.ETA.IsZero() {
		eta := a.ETA.UTC().Format(time.RFC3339)
		j.ETA = &eta
	}
	return j
}

// ackLine is the board's and the map's words for an incident's
// acknowledgement: "対応中 — 復旧見込み 10:30 (@name)", or "" when nobody
// has acknowledged it.
func ackLine(acks map[string]store.Ack, key string, cfg *config.Config, lang string, now time.Time) string {
	a, ok := acks[key]
	if !ok {
		return ""
	}
	t := texts[lang]
	if a.ETA.IsZero() {
		return fmt.Sprintf(t["ack_no_eta"], a.Name)
	}
	when := a.ETA.In(cfg.Location).Format("15:04")
	if sekisho.DateOf(a.ETA, cfg.Location) != sekisho.DateOf(now, cfg.Location) {
		when = a.ETA.In(cfg.Location).Format("01-02 15:04")
	}
	line := fmt.Sprintf(t["ack"], when, a.Name)
	if !now.Before(a.ETA) {
		line += t["eta_overdue"]
	}
	return line
}

// runbooksOf lists the runbooks of an incident's members, once each.
func runbooksOf(inc sekisho.Incident, cfg *config.Config) []string {
	var out []string
	for _, m := range inc.Members {
		if p := cfg.Pipeline(m.Pipeline); p != nil && p.Runbook != "" && !slices.Contains(out, p.Runbook) {
			out = append(out, p.Runbook)
		}
	}
	return out
}

// silencesAt are the silences that have not ended at now: the stored ones
// and the config's maintenance windows holding now.
func (s *server) silencesAt(ctx context.Context, now time.Time) (store.Silences, error) {
	sil, err := s.Store.SilencesEndingAfter(ctx, now)
	if err != nil {
		return nil, err
	}
	return append(sil, slackact.MaintenanceSilences(s.cfg(), now, now.Add(time.Second))...), nil
}
