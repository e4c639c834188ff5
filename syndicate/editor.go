package syndicate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Decision is an editor's decision on a delivery.
type Decision string

const (
	DecideRetry    Decision = "retry"     // send again a failed, held or uncertain delivery
	DecideSkip     Decision = "skip"      // never send it
	DecideMarkSent Decision = "mark-sent" // it did go out (an uncertain one)
)

// The dashboard's buttons and the decision each one is: every action has
// its command, with the same effect.
//
//	Retry, Release, Send now, Send again  → retry
//	Skip, Drop                            → skip
//	Mark sent                             → mark-sent
//	Approve (Engine.Approve), Push edit (Engine.PushEdit)

// appliesTo lists the states a decision can move a delivery from.
func (dec Decision) appliesTo() []State {
	switch dec {
	case DecideRetry: // a pending one goes now, whatever its backoff
		return []State{StatePending, StateFailed, StateHeld, StateUncertain}
	case DecideSkip:
		return []State{StatePending, StateFailed, StateHeld, StateReview, StateUncertain}
	case DecideMarkSent:
		return []State{StateUncertain, StateFailed}
	}
	return nil
}

// Decide applies an editor's decision to one delivery.
func Decide(ctx context.Context, s Store, id int64, dec Decision, now time.Time) (Delivery, error) {
	from := dec.appliesTo()
	if from == nil {
		return Delivery{}, fmt.Errorf("unknown decision %q", dec)
	}
	d, err := s.Delivery(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Delivery{}, fmt.Errorf("delivery %d: no such delivery", id)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("delivery %d: %w", id, err)
	}
	if !slices.Contains(from, d.State) {
		return d, fmt.Errorf("delivery %d is %s: %s applies only to %s deliveries", id, d.State, dec, joinStates(from))
	}
	prev := d.State
	d.UpdatedAt = now
	switch dec {
	case DecideRetry:
		d.State, d.Attempts, d.NextAttempt, d.LastError = StatePending, 0, time.Time{}, ""
	case DecideSkip:
		d.State = StateSkipped
	case DecideMarkSent:
		d.State, d.LastError = StateSent, ""
	}
	if err := s.UpdateDelivery(ctx, d, prev); err != nil {
		return d, fmt.Errorf("delivery %d: %s: %w", id, dec, err)
	}
	return d, nil
}

func joinStates(states []State) string {
	out := ""
	for i, s := range states {
		switch {
		case i == 0:
		case i == len(states)-1:
			out += " or "
		default:
			out += ", "
		}
		out += string(s)
	}
	return out
}
