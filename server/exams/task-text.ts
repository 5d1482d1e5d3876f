/**
 * A lab's task as an exam shows it. The task list already names the task, so the page's own
 * `# Title` goes; and the lab's "Check your work" section (press Check, run `kubelab lab check`)
 * describes practice, not an exam, where checking follows the exam's own rule.
 */
export function examTaskMarkdown(markdown: string): string {
  const withoutTitle = markdown.replace(/^\s*# [^\n]*\n/, '');
  const lines = withoutTitle.split('\n');
  const out: string[] = [];
  let skipping = false;
  for (const line of lines) {
    const heading = /^(#{1,6})\s+(.*?)\s*$/.exec(line);
    // The section runs to the next heading of its level or above; its own subsections go with it.
    if (heading && heading[1]!.length <= 2)
      skipping = heading[1] === '##' && /^check your work$/i.test(heading[2]!);
    if (!skipping) out.push(line);
  }
  return out.join('\n');
}
