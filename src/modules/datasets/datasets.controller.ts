import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { Can } from '../../common/authz/decorators';
import { DatasetUploadService } from './dataset-upload.service';
import { IngestError } from './ingest/ingest-error';

/** Dataset content travels over REST, streamed; metadata lives in GraphQL. */
@Controller('v1')
export class DatasetsController {
  constructor(private readonly uploads: DatasetUploadService) {}

  @Can('create', 'Dataset')
  @Post('datasets/:datasetId/versions')
  @HttpCode(201)
  async upload(@Param('datasetId') datasetId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const version = await this.uploads.upload({
        datasetId,
        body: req,
        contentType: req.header('content-type'),
        contentLength: req.header('content-length') ? Number(req.header('content-length')) : undefined,
      });
      res.status(201).json(version);
    } catch (error) {
      if (!(error instanceof IngestError)) throw error;
      // The client may still be sending: answer, then stop reading the rest of the body.
      res.status(error.httpStatus).setHeader('Connection', 'close');
      res.json({ error: { code: 'BAD_USER_INPUT', message: error.message, line: error.line || undefined } });
      req.unpipe();
      req.resume();
    }
  }

  @Can('readContent', 'Dataset')
  @Get('dataset-versions/:versionId/content')
  async download(@Param('versionId') versionId: string, @Res() res: Response): Promise<void> {
    const { stream, version, format } = await this.uploads.openContent(versionId);
    res.status(200);
    res.setHeader('Content-Type', format === 'CSV' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="dataset-version-${version.version}.${format === 'CSV' ? 'csv' : 'jsonl'}"`);
    res.setHeader('X-Content-SHA256', version.sha256);
    await pipeline(stream, res);
  }
}
