const DISCORD_EPOCH = 1420070400000n;
let increment = 0n;

/** A real Discord snowflake for "now": discord.js reads timestamps out of ids. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) % 4096n;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | increment).toString();
}
