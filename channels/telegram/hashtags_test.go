package telegram

import (
	"strings"
	"testing"
)

func TestHashtags(t *testing.T) {
	tests := []struct {
		categories []string
		n          int
		custom     map[string]string
		want       []string
	}{
		{[]string{"Kazakhstan", "Mass strike", "Central Asia"}, 4, nil, []string{"#Kazakhstan", "#MassStrike", "#CentralAsia"}},
		{[]string{"Kazajistán", "Huelga de masas", "Asia Central"}, 2, nil, []string{"#Kazajistán", "#HuelgaDeMasas"}},
		{[]string{"self-organization", "C++", "Year 2022", "2022", "mass strike", "Mass Strike"}, 9, nil, []string{"#SelfOrganization", "#C", "#Year2022", "#MassStrike"}},
		{[]string{"Технологии", "日本", "…", ""}, 9, nil, []string{"#Технологии", "#日本"}},
		{[]string{"Technology"}, 0, nil, nil},
		{[]string{"Statements", "mass strike", "Kazakhstan", "Brazil"}, 4,
			map[string]string{"statements": "", "Mass Strike": "General strike", "Kazakhstan": "#Qazaqstan", "Brazil": "2022"},
			[]string{"#GeneralStrike", "#Qazaqstan"}},
	}
	for _, tt := range tests {
		got := hashtags(tt.categories, tt.n, tt.custom)
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("hashtags(%q, %d, %v) = %q, want %q", tt.categories, tt.n, tt.custom, got, tt.want)
		}
	}
}
