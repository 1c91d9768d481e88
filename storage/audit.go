package storage

import (
	"context"

	"github.com/hotline12345/hotline/ticket"
)

// AuditResult summarises a verification of every order's event chain.
type AuditResult struct {
	Orders int                `json:"orders"`
	Events int                `json:"events"`
	First  *ticket.ChainError `json:"first_error,omitempty"`
}

// VerifyAudit walks every order's event chain in id order and reports the
// first altered, reordered or missing event. It reads in batches so that it
// runs in bounded memory over tens of millions of orders.
func (s *Store) VerifyAudit(ctx context.Context) (*AuditResult, error) {
	res := &AuditResult{}
	var after int64
	for {
		rows, err := s.DB.Query(ctx, `SELECT id, last_hash FROM tickets WHERE id > ? ORDER BY id LIMIT 500`, after)
		if err != nil {
			return nil, err
		}
		type head struct {
			id   int64
			hash string
		}
		var batch []head
		for rows.Next() {
			var h head
			if err := rows.Scan(&h.id, &h.hash); err != nil {
				rows.Close()
				return nil, err
			}
			batch = append(batch, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			return res, nil
		}
		for _, h := range batch {
			evs, err := s.Events(ctx, h.id)
			if err != nil {
				return nil, err
			}
			res.Orders++
			res.Events += len(evs)
			if ce := ticket.VerifyChain(h.id, evs, h.hash); ce != nil {
				res.First = ce
				return res, nil
			}
			after = h.id
		}
	}
}
