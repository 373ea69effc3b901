namespace FinNews.Tests; public class SmokeTests { [Fact] public void Runs() => 1.Should().Be(1); }
