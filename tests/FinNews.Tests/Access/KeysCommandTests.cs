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
}
