// The built-in 200-token prompt: configs/prompts/prompt_200.txt, compiled in so the binary runs anywhere.
// A test checks that the two stay identical.

public enum DefaultPrompt {
    public static let text = """
You are reviewing the log of a regional rail network after a week of heavy snow. Read the summary below, then write a detailed report for its managers. The report should explain what went wrong, what went right, and what should change before the next winter.

On Monday, two signal boxes on the northern line lost power for several hours, and trains were held at stations while engineers worked in freezing wind. On Tuesday, crews reported ice on the overhead wires and slowed every coastal service to half speed. On Wednesday, a freight train stalled on a steep grade, blocking passenger traffic until a second locomotive could push it clear. By Thursday, most lines ran again on thin timetables. On Friday, the control room took a record number of calls from passengers asking for refunds.

Describe the causes, the costs, the lessons, and three concrete improvements, each with an owner and a deadline.
"""
}
