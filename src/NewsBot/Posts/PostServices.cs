namespace NewsBot.Posts;

public static class PostServices
{
    public static IHostApplicationBuilder AddPosts(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PostStore>();
        return builder;
    }
}
