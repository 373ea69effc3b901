using FinNews.Tests.Support;

namespace FinNews.Tests.Access;

public class KeysCommandTests
{
    [Fact]
    public async Task Keys_create_offers_reader_editor_and_admin_and_names_a_bad_scope()
    {
        using var env = TestEnvironment.Create();

        var editor = await FinNewsProcess.RunAsync("keys", "create", "--scope", "editor", "--name", "news desk", "--config", env.ConfigDirectory);
        var bad = await FinNewsProcess.RunAsync("keys", "create", "--scope", "owner", "--name", "x", "--config", env.ConfigDirectory);
        var list = await FinNewsProcess.RunAsync("keys", "list", "--config", env.ConfigDirectory);

        editor.Code.Should().Be(0, editor.Err);
        editor.Out.Trim().Should().MatchRegex("^fn_[A-Za-z0-9_-]{43}$");
        editor.Err.Should().Contain("editor");
        bad.Code.Should().Be(2);
        bad.Err.Should().Contain("scope = 'owner': unknown scope (use one of 'reader', 'editor', 'admin')");
        list.Out.Should().Contain("news desk").And.Contain("editor");
    }

    [Fact]
    public async Task A_revoked_key_stops_working_and_revoking_an_unknown_key_is_a_bad_argument()
    {
        using var env = TestEnvironment.Create();
        var created = await FinNewsProcess.RunAsync("keys", "create", "--scope", "reader", "--name", "desk", "--rpm", "7", "--config", env.ConfigDirectory);
        created.Code.Should().Be(0, created.Err);
        var key = created.Out.Trim();
        var prefix = key[..FinNews.Core.Access.ApiKeyRules.PrefixLength];
        (await FinNewsProcess.RunAsync("keys", "list", "--config", env.ConfigDirectory)).Out.Should().Contain("desk").And.Contain("7");

        var revoked = await FinNewsProcess.RunAsync("keys", "revoke", prefix, "--config", env.ConfigDirectory);
        var unknown = await FinNewsProcess.RunAsync("keys", "revoke", "fn_nothere", "--config", env.ConfigDirectory);

        revoked.Code.Should().Be(0, revoked.Err);
        revoked.Out.Should().Contain("revoked");
        unknown.Code.Should().Be(2);
        unknown.Err.Should().Contain("No key 'fn_nothere'");
        var store = new FinNews.Core.Storage.Sqlite.SqliteApiKeyStore(new FinNews.Core.Storage.Sqlite.SqliteStore(env.DatabasePath).ConnectionString, env.Clock);
        store.Initialize();
        store.Authenticate(key).Should().BeNull("a revoked key is refused");
    }
}
