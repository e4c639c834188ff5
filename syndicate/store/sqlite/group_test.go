package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestWritesAskedTogetherCommitTogether: writes asked for while one runs
// are made in one transaction, and one that fails takes only its own
// changes back.
func TestWritesAskedTogetherCommitTogether(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "group.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	holding, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.writeTx(ctx, func(tx *sql.Tx) error {
			close(holding)
			<-release // holds the writer while the others queue
			_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('first', '')`)
			return err
		})
	}()

	<-holding
	const n = 30
	failed := errors.New("this write fails")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		txs     = map[*sql.Tx]int{}
		results = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			results[i] = s.writeTx(ctx, func(tx *sql.Tx) error {
				mu.Lock()
				txs[tx]++
				mu.Unlock()
				if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, '')`, fmt.Sprint(i)); err != nil {
					return err
				}
				if i%3 == 0 {
					return failed // after its insert: the savepoint must take it back
				}
				return nil
			})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.writes.mu.Lock()
		queued := len(s.writes.pending)
		s.writes.mu.Unlock()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued behind the first, want %d", queued, n)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("the first write: %v", err)
	}
	if len(txs) != 1 {
		t.Errorf("the %d queued writes ran in %d transactions, want 1", n, len(txs))
	}
	for i, err := range results {
		_, kept, readErr := s.Meta(ctx, fmt.Sprint(i))
		if readErr != nil {
			t.Fatal(readErr)
		}
		if i%3 == 0 {
			if !errors.Is(err, failed) || kept {
				t.Errorf("write %d: error %v, row kept %v; want its own error and its row taken back", i, err, kept)
			}
			continue
		}
		if err != nil || !kept {
			t.Errorf("write %d: error %v, row kept %v; want it committed", i, err, kept)
		}
	}
}
