//! `rope_embed` and `token_vector` give the same numbers in every process: token vectors come
//! from a fixed hash (XXH64) and a portable libm, never from a per-process random state. Two
//! runs of the binary are compared, and a few values are pinned so that a change of algorithm
//! (which would change every stored embedding) is caught.

use std::process::Stdio;

use crate::{apiary, stderr, stdout};

/// Runs `sql` in a fresh `apiary` process and returns its CSV output.
fn run(sql: &str) -> String {
    let o = apiary()
        .args(["-S", "--format", "csv", "-e", sql])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn rope_embed_is_the_same_in_two_processes() {
    let sql = "SELECT id, e.pos, e.token, e.embedding FROM words_test \
               LATERAL VIEW rope_embed(word, 16, 10000, 'half', 7) e AS pos, token, embedding \
               WHERE id < 3000 ORDER BY id, e.pos; \
               SELECT pos, token, embedding FROM rope_embed(array(3, 1, 4, 1, 5), 8)";
    let first = run(sql);
    let second = run(sql);
    assert!(first.lines().count() > 2000, "{first}");
    assert_eq!(first, second);
}

#[test]
fn token_vectors_and_embeddings_are_pinned() {
    // Computed by an independent implementation of the documented algorithm (Python with its
    // own XXH64, SplitMix64, Box-Muller in float64, float32 rounding), not by this code.
    let out = run("SELECT token_vector('bee', 4) AS v; \
         SELECT pos, token, embedding FROM rope_embed('bee', 4)");
    assert_eq!(
        out,
        "v\n\
         \"[-0.5763095,-0.5870446,-0.18784943,0.53661776]\"\n\
         pos,token,embedding\n\
         0,b,\"[-0.5154698,-0.6771438,-0.31993303,-0.41642526]\"\n\
         1,e,\"[0.24283934,-0.105563216,0.42630592,-0.86495596]\"\n\
         2,e,\"[0.22003505,0.1473062,0.43493405,-0.8606497]\"\n"
    );
}
