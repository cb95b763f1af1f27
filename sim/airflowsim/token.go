package airflowsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// DefaultTokenLifetime is Airflow 3's [api_auth] jwt_expiration_time
// default: 86400 seconds.
const DefaultTokenLifetime = 24 * time.Hour

// RevokeTokens changes the signing secret, as an API server restarted with
// a new jwt_secret would: every token issued so far is refused.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwtKey = append(s.jwtKey, byte(len(s.jwtKey)))
}

func (s *Server) password() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.Password
}

// SetPassword changes the password /auth/token accepts.
func (s *Server) SetPassword(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Password = p
}

var b64 = base64.RawURLEncoding

// issueToken answers POST /auth/token as Airflow 3's simple auth manager
// does: JSON {"username","password"} in, 201 {"access_token": JWT} out,
// the JWT expiring after Options.TokenLifetime on the simulator's clock.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	s.count("auth_token")
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil || in.Username == "" {
		jsonAnswer(http.StatusUnprocessableEntity, map[string]any{"detail": "username and password are required"}).write(w)
		return
	}
	pass := s.password()
	if subtle.ConstantTimeCompare([]byte(in.Username), []byte(s.opts.Username)) != 1 ||
		subtle.ConstantTimeCompare([]byte(in.Password), []byte(pass)) != 1 {
		jsonAnswer(http.StatusUnauthorized, map[string]any{"detail": "Invalid credentials"}).write(w)
		return
	}
	now := s.opts.Clock.Now()
	life := s.opts.TokenLifetime
	if life <= 0 {
		life = DefaultTokenLifetime
	}
	s.mu.Lock()
	s.tokenSeq++
	seq := s.tokenSeq
	s.mu.Unlock()
	header := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{"sub": in.Username, "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(life).Unix(), "jti": seq, "aud": "apache-airflow"})
	body := header + "." + b64.EncodeToString(claims)
	tok := body + "." + b64.EncodeToString(s.sign(body))
	jsonAnswer(http.StatusCreated, map[string]any{"access_token": tok}).write(w)
}

// sign is HMAC-SHA256 under the current secret (Airflow signs HS512 with
// jwt_secret; the client never checks the signature, only the server does).
func (s *Server) sign(text string) []byte {
	s.mu.Lock()
	key := append([]byte(nil), s.jwtKey...)
	s.mu.Unlock()
	m := hmac.New(sha256.New, key)
	m.Write([]byte(text))
	return m.Sum(nil)
}

// validJWT checks a bearer token the simulator issued: its signature and
// that it has not expired on the simulator's clock.
func (s *Server) validJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, s.sign(parts[0]+"."+parts[1])) {
		return false
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return false
	}
	return s.opts.Clock.Now().Before(time.Unix(c.Exp, 0))
}
