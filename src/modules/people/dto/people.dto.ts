import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { IsHandle, NormalHandle } from '../../../common/validation/handle.validator';

const E164 = /^\+[1-9]\d{6,14}$/;
const E164_MESSAGE = 'phone must be an E.164 number such as +15551234567';

export class VerifyStartDto {
  @ApiProperty({ example: '+15551234567' })
  @IsString()
  @Matches(E164, { message: E164_MESSAGE })
  phone!: string;
}

export class VerifyStartResponseDto {
  @ApiProperty({ example: 'sent' }) status!: 'sent';
  @ApiProperty({ description: 'Seconds the code stays valid', example: 600 }) expires_in!: number;
}

export class VerifyConfirmDto {
  @ApiProperty({ example: '+15551234567' })
  @IsString()
  @Matches(E164, { message: E164_MESSAGE })
  phone!: string;

  @ApiProperty({ example: '123456' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;

  @ApiPropertyOptional({ description: 'Used when the person has no name yet' })
  @IsOptional()
  @IsString()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(100)
  name?: string;
}

export class TokensResponseDto {
  @ApiProperty() access_token!: string;
  @ApiProperty() refresh_token!: string;
  @ApiProperty() user_id!: string;
  @ApiProperty({ description: 'Seconds until the access token expires', example: 900 })
  expires_in!: number;
}

export class RefreshDto {
  @ApiPropertyOptional({ description: 'Omit to use the refresh cookie' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  refresh_token?: string;
}

export class SessionResponseDto {
  @ApiProperty() authenticated!: true;
  @ApiProperty() user_id!: string;
  @ApiProperty() session_id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty() phone!: string;
}

export class CsrfTokenResponseDto {
  @ApiProperty({ description: 'Send back as X-CSRF-Token on mutating cookie requests' })
  csrf_token!: string;
}

export class UpdateProfileDto {
  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 100 })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Matches(/\S/, { message: 'name must not be blank' })
  @MaxLength(100)
  name?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'America/New_York' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(64)
  time_zone?: string | null;
}

export class PersonaTalkedToDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
}

export class RelationshipDto {
  @ApiProperty({ nullable: true, type: String }) first_contact_at!: string | null;
  @ApiProperty() messages_exchanged!: number;
  @ApiProperty() memories_count!: number;
}

export class HandleDto {
  @ApiProperty({ example: '+15551234567' }) handle!: string;
  @ApiProperty({ enum: ['phone', 'email', 'other'] }) kind!: 'phone' | 'email' | 'other';
  @ApiProperty({ description: 'The handle the person was first known by' }) primary!: boolean;
  @ApiProperty({ description: 'A code sent to it was confirmed (sign-in or linking)' })
  verified!: boolean;
  @ApiProperty() added_at!: string;
}

export class OnboardingDto {
  @ApiProperty({
    enum: ['not_started', 'started', 'name_known', 'completed'],
    description: 'not_started: no message yet; started by the first message',
  })
  state!: 'not_started' | 'started' | 'name_known' | 'completed';
  @ApiProperty({ nullable: true, type: String }) started_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) completed_at!: string | null;
  @ApiProperty({
    description: 'What the persona still asks for',
    enum: ['name', 'time_zone'],
    isArray: true,
  })
  missing!: ('name' | 'time_zone')[];
}

export class TraitDto {
  @ApiProperty({ example: 'communication_style' }) trait!: string;
  @ApiProperty({ example: 'brief lowercase texts' }) value!: string;
  @ApiProperty() confidence!: number;
  @ApiProperty({ example: 'extraction' }) source!: string;
  @ApiProperty() updated_at!: string;
}

export class TraitProfileDto {
  @ApiProperty({ description: 'The short summary every reply’s prompt carries' }) summary!: string;
  @ApiProperty() updated_at!: string;
  @ApiProperty({ type: [TraitDto] }) traits!: TraitDto[];
}

export class ProfileResponseDto {
  @ApiProperty() user_id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ description: 'The primary handle (the phone signed in with, usually)' })
  phone!: string;
  @ApiProperty({ nullable: true, type: String }) time_zone!: string | null;
  @ApiProperty({ type: [HandleDto] }) handles!: HandleDto[];
  @ApiProperty({ type: OnboardingDto }) onboarding!: OnboardingDto;
  @ApiProperty({ type: TraitProfileDto, nullable: true }) trait_profile!: TraitProfileDto | null;
  @ApiProperty({ type: [PersonaTalkedToDto] }) personas!: PersonaTalkedToDto[];
  @ApiProperty({ type: RelationshipDto }) relationship!: RelationshipDto;
  @ApiProperty() created_at!: string;
}

export class UserMemoryDto {
  @ApiProperty() id!: string;
  @ApiProperty() type!: string;
  @ApiProperty() content!: string;
  @ApiProperty({ description: 'Where it came from (message, photo, …)' }) source!: string;
  @ApiProperty() confidence!: number;
  @ApiProperty() created_at!: string;
}

export class UserMemoriesDto {
  @ApiProperty({ type: [UserMemoryDto] }) memories!: UserMemoryDto[];
}

export class UserHandlesDto {
  @ApiProperty({ type: [HandleDto] }) handles!: HandleDto[];
}

export class LinkHandleStartDto {
  @ApiProperty({ example: 'sam@icloud.com', description: 'E.164 phone or Apple ID email' })
  @NormalHandle()
  @IsHandle()
  handle!: string;
}

export class LinkHandleConfirmDto {
  @ApiProperty({ example: 'sam@icloud.com' })
  @NormalHandle()
  @IsHandle()
  handle!: string;

  @ApiProperty({ example: '123456' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;
}

export class MergedPersonDto {
  @ApiProperty({ description: 'The id the merged person had; it no longer exists' })
  user_id!: string;
  @ApiProperty() messages!: number;
  @ApiProperty() memories!: number;
  @ApiProperty() traits!: number;
  @ApiProperty() photos!: number;
}

export class LinkHandleResponseDto {
  @ApiProperty() handle!: string;
  @ApiProperty({
    type: MergedPersonDto,
    nullable: true,
    description: 'Set when the handle belonged to someone iMessage knew and who never signed in',
  })
  merged!: MergedPersonDto | null;
  @ApiProperty({ type: [HandleDto] }) handles!: HandleDto[];
}

export class PersonExportDto {
  @ApiProperty() exported_at!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) person!: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) handles!: unknown[];
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  onboarding!: Record<string, unknown> | null;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true })
  trait_profile!: Record<string, unknown> | null;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) traits!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) memories!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) rooms!: unknown[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Their messages and the assistant’s replies to them',
  })
  messages!: unknown[];
  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'Metadata and analysis; the files are not included',
  })
  photos!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) scheduled_messages!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) sessions!: unknown[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) llm_usage!: unknown[];
}

export class ErasureReportDto {
  @ApiProperty() user_id!: string;
  @ApiProperty() photos!: number;
  @ApiProperty() memories!: number;
  @ApiProperty() messages!: number;
  @ApiProperty() rooms!: number;
  @ApiProperty() scheduled_messages!: number;
  @ApiProperty() edge_commands!: number;
  @ApiProperty({ description: 'Queued jobs removed' }) jobs_removed!: number;
  @ApiProperty({ description: 'Jobs running at that moment (they find nothing left)' })
  jobs_running!: number;
  @ApiProperty() cached_replies!: number;
}

export class AdminUserQueryDto {
  @ApiProperty({ example: '+15551234567' })
  @NormalHandle()
  @IsHandle()
  handle!: string;
}

export class AdminUserDto {
  @ApiProperty() user_id!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ type: [HandleDto] }) handles!: HandleDto[];
  @ApiProperty() created_at!: string;
}
