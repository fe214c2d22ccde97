/** One produced file, as the Discord layer needs it. */
export interface PostedMedia {
  url: string;
  kind: 'image' | 'video' | 'audio' | 'model';
}

/** Media to show in Discord with the words around it and the buttons under it. */
export interface MediaPost {
  /** Who asked for what (mentions are shown, never pinged). */
  header: string;
  /** The assistant's words about the result. */
  text: string;
  /** Subtext lines (spend warnings). */
  notes: string[];
  media: PostedMedia[];
  /** Key of the stored job behind the Reroll and Vary buttons. */
  jobId: string;
}
