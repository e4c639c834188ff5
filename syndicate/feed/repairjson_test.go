package feed

import "testing"

func TestRepairJSON(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"version":"v","items":[{"id":"a"},{"id":"b"`, `{"version":"v","items":[{"id":"a"}]}`},
		{`{"version":"v","items":[{"id":"a"},`, `{"version":"v","items":[{"id":"a"}]}`},
		{`{"version":"v","items":[`, `{"version":"v","items":[]}`},
		{`{"version":"v","items":[{"id":"a"}]`, `{"version":"v","items":[{"id":"a"}]}`},
		{`{"items":[{"id":"a"}],"title":"cut`, `{"items":[{"id":"a"}]}`},
		{`{"version":"v","ti`, `{"version":"v"}`},
		{`{"version":"v",`, `{"version":"v"}`},
		{`{"version":"v","items":[{"id":"a"}]}`, ""},   // complete
		{`{"version":"v","items":[{"id":"a"}]} x`, ""}, // not cut: broken
		{`{"version":"v","items":[{"id":}]`, ""},       // broken before the end
		{`[1,2`, ""},
	}
	for _, tc := range tests {
		got, truncated := repairJSON([]byte(tc.doc))
		if string(got) != tc.want || truncated != (tc.want != "") {
			t.Errorf("repairJSON(%s) = %s, %v; want %s", tc.doc, got, truncated, tc.want)
		}
	}
}
