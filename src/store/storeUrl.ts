/** The password in a STORE_URL, if any: it must never reach a log line. (No backend is loaded here: the logger needs it.) */
export function storeSecrets(url: string): string[] {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [password] : [];
  } catch {
    return [];
  }
}
