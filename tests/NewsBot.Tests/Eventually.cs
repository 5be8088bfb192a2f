namespace NewsBot.Tests;

/// <summary>Waiting for what a running service does in the background (a poll, a job, a send).</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 50 ms; fails naming <paramref name="what"/> after <paramref name="seconds"/>.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(seconds); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            if (await condition())
            {
                return;
            }
        }

        Assert.Fail($"{what} within {seconds} s");
    }
}
