namespace NewsBot.Templates;

/// <summary>A template that does not parse or render; the message lists every error as <c>path(line,col): message</c>.</summary>
public sealed class TemplateException(string message) : Exception(message);
