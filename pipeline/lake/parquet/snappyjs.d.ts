/** snappyjs ships no types: the one call the writer makes. */
declare module "snappyjs" {
  const snappy: {
    /** SNAPPY block of `input`, of the same kind (a Buffer for a Buffer). */
    compress<T extends Uint8Array>(input: T): T;
  };
  export default snappy;
}
