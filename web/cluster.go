package web

import (
	"net/http"
	"time"
)

// Cluster is what GET /api/v1/cluster answers (SPEC §14): which store
// this replica uses, its id, its role, the leader it sees, the lease's
// epoch and when the lease ends on the database's clock.
type Cluster struct {
	Store          string    `json:"store"`
	Self           string    `json:"self"`
	Role           string    `json:"role"`
	Leader         string    `json:"leader"`
	Epoch          int64     `json:"epoch"`
	LeaseExpiresAt time.Time `json:"lease_expires_at"`
}

// apiCluster answers this replica's view of the cluster.
func (s *server) apiCluster(w http.ResponseWriter, r *http.Request) {
	if s.Cluster == nil {
		writeError(w, http.StatusNotImplemented, "this server runs no leader election")
		return
	}
	c := s.Cluster()
	c.LeaseExpiresAt = c.LeaseExpiresAt.UTC()
	writeJSON(w, http.StatusOK, c)
}

// clusterFooter is the board's line about the replica that served it.
func (s *server) clusterFooter() *Cluster {
	if s.Cluster == nil {
		return nil
	}
	c := s.Cluster()
	return &c
}
