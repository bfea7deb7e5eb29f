package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/somsgo/soms/features"
	"github.com/somsgo/soms/internal/browsertest"
)

const (
	adminUser = "admin"
	adminPass = "admin-pass-123"
)

// testDashboard walks the dashboard in headless Chromium through the compose
// frontend (the nginx image with the virtual office's configuration), so
// everything it calls is routed as in production: the event stream, the
// simulator panel, the brain's task, the wallet's balance, the brain's
// decisions in the administrator's view.
func testDashboard(t *testing.T) {
	ctx := context.Background()
	if err := sys.Reset(ctx, features.Start()); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, ctx, browsertest.FindChromium(t), browsertest.ArtifactsDir(t, "dashboard-compose"))
	b.Open(sys.URL("frontend"))
	userID := b.Register("hanako", "hanako-pass-1", "花子")
	b.Inject("meeting_room", 6, 1400)
	injected := time.Now()
	id, bounty := b.WaitTask("meeting_room", 90*time.Second)
	t.Logf("the brain's task reached the board %.1fs after the injection", time.Since(injected).Seconds())
	b.Accept(id)
	b.Complete(id, "窓を開けました")
	b.WaitBalance(bounty*1000, 60*time.Second)
	b.Shot("paid")
	b.SignIn(adminUser, adminPass)
	b.AdminViews(userID)
	b.Shot("admin")
}
