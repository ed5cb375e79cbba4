"""Runs inside the PaddleSpeech interpreter (standard library + paddlespeech only).

    python paddlespeech_worker.py JOB.json      (the backend passes this code with -c instead)

JOB.json: {"files": [16 kHz WAVs of at most 30 s], "model", "lang", "sample_rate", "config",
"ckpt_path", "device", "output"}; writes the list of texts, one per file, as JSON to "output".
"""
import json
import sys


def main(job_path: str) -> None:
    from paddlespeech.cli.asr.infer import ASRExecutor
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    asr = ASRExecutor()
    texts = [asr(audio_file=path, model=job["model"], lang=job["lang"], sample_rate=job["sample_rate"],
                 config=job["config"], ckpt_path=job["ckpt_path"], device=job["device"], force_yes=True)
             for path in job["files"]]
    with open(job["output"], "w", encoding="utf-8") as f:
        json.dump([str(t) for t in texts], f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
